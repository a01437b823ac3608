import { z } from 'zod';
import { DeviceIdSchema } from '../ids.js';
import { DeviceMessageBaseSchema, TelemetrySampleSchema } from '../messages.js';
import { IsoTimestampSchema } from './common.js';

export const TELEMETRY_MAX_LIMIT = 5_000;

/** `since`: an ISO 8601 timestamp or milliseconds since the epoch. */
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
