import { z } from 'zod';
import { DeviceIdSchema } from '../ids.js';
import { DeviceMessageBaseSchema, TelemetrySampleSchema } from '../messages.js';
import { IsoTimestampSchema } from './common.js';

export const TELEMETRY_MAX_LIMIT = 5_000;

/** `since`, `from`, `to`: an ISO 8601 timestamp or milliseconds since the epoch. */
const SinceSchema = z
  .string()
  .min(1)
  .max(40)
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isSafeInteger(ms) || ms < 0) {
      ctx.addIssue({ code: 'custom', message: 'since must be an ISO 8601 timestamp or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  });

export const TelemetryQuerySchema = z.object({
  since: SinceSchema.optional(),
  limit: z.coerce.number().int().min(1).max(TELEMETRY_MAX_LIMIT).default(1_000),
});
export type TelemetryQuery = z.output<typeof TelemetryQuerySchema>;

/**
 * The resolutions of GET /devices/{id}/telemetry/series: the samples as stored, or rollups of 1 minute
 * and 1 hour (docs/operations.md, "Telemetry rollups"). `auto` picks by the span asked for.
 */
export const TELEMETRY_RESOLUTIONS = ['raw', '1m', '1h'] as const;
export type TelemetryResolution = (typeof TELEMETRY_RESOLUTIONS)[number];

/** Bucket length of each rollup resolution, in milliseconds. */
export const ROLLUP_BUCKET_MS = { '1m': 60_000, '1h': 3_600_000 } as const;

/** Up to this span `auto` returns the samples as stored; up to AUTO_MINUTE_MAX_MS 1-minute rollups; then hourly. */
export const AUTO_RAW_MAX_MS = 6 * 3_600_000;
export const AUTO_MINUTE_MAX_MS = 3 * 24 * 3_600_000;

/** Most points one series answer holds: a span that would give more is refused with the resolution to ask for. */
export const TELEMETRY_SERIES_MAX_POINTS = 20_000;

export const TelemetrySeriesQuerySchema = z
  .object({
    from: SinceSchema,
    to: SinceSchema.optional().describe('default: now'),
    resolution: z.enum(['auto', ...TELEMETRY_RESOLUTIONS]).default('auto'),
  })
  .refine((query) => query.to === undefined || query.to > query.from, {
    message: 'to must be later than from',
    path: ['to'],
  });
export type TelemetrySeriesQuery = z.output<typeof TelemetrySeriesQuerySchema>;

const MetricValuesSchema = z.record(z.string(), z.number());

export const TelemetrySeriesPointSchema = z.object({
  ts: z.number().int().describe('the sample time, or the start of the bucket (epoch ms)'),
  values: MetricValuesSchema.describe("each metric's value, or its average over the bucket"),
  min: MetricValuesSchema.optional().describe('rollups: lowest value in the bucket'),
  max: MetricValuesSchema.optional().describe('rollups: highest value in the bucket'),
});
export type TelemetrySeriesPoint = z.infer<typeof TelemetrySeriesPointSchema>;

export const TelemetrySeriesResponseSchema = z.object({
  deviceId: DeviceIdSchema,
  resolution: z.enum(TELEMETRY_RESOLUTIONS),
  bucketMs: z.number().int().nonnegative().describe('0 for samples as stored'),
  points: z.array(TelemetrySeriesPointSchema).describe('oldest first'),
});
export type TelemetrySeriesResponse = z.infer<typeof TelemetrySeriesResponseSchema>;

const TelemetrySeriesSampleSchema = TelemetrySampleSchema.extend({
  seq: DeviceMessageBaseSchema.shape.seq,
});

export const TelemetryResponseSchema = z.object({
  deviceId: DeviceIdSchema,
  samples: z.array(TelemetrySeriesSampleSchema).describe('oldest first'),
});
export type TelemetryResponse = z.infer<typeof TelemetryResponseSchema>;

export const MetricDefinitionSchema = z.object({
  name: z.string(),
  unit: z.string(),
  type: z.enum(['gauge', 'counter']),
  description: z.string(),
});

export const TelemetryCatalogResponseSchema = z.object({
  metrics: z.array(MetricDefinitionSchema).describe('static metrics of every Linux box'),
  dynamic: z
    .array(
      z.object({
        pattern: z.string(),
        unit: z.string(),
        type: z.enum(['gauge', 'counter']),
        description: z.string(),
      }),
    )
    .describe('families of per-sensor metrics; describe one by name with ?name='),
  described: MetricDefinitionSchema.nullable().optional(),
});
export type TelemetryCatalogResponse = z.infer<typeof TelemetryCatalogResponseSchema>;

/**
 * How completely a box's spooled messages reach storage (docs/operations.md, "Sequence gaps"): spool
 * records that never arrived, next to the box's own count of records its full spool dropped.
 */
export const DeviceDeliveryResponseSchema = z.object({
  deviceId: DeviceIdSchema,
  sequenceGaps: z
    .number()
    .int()
    .nonnegative()
    .describe('spool records of this box that never reached storage; redeliveries never count'),
  spoolDropped: z
    .number()
    .int()
    .nonnegative()
    .describe('records the box reports its full spool dropped unsent (in its current spool epoch)'),
  spoolEpoch: z
    .string()
    .nullable()
    .describe('the box spool epoch followed; null before its first spooled message'),
  lastRecordId: z.number().int().nonnegative().nullable().describe('highest spool record id that arrived'),
  updatedAt: IsoTimestampSchema.nullable(),
});
export type DeviceDeliveryResponse = z.infer<typeof DeviceDeliveryResponseSchema>;
