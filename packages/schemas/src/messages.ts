import { z } from 'zod';
import {
  DesiredAgentSchema,
  DesiredProviderSchema,
  ReportedAgentSchema,
  RunEventSchema,
  RunRecordSchema,
  UsageRecordSchema,
  AgentIdSchema,
} from './agents.js';
import { CommandIdSchema } from './ids.js';
import { UpdateOfferSchema, UpdateStatusReportSchema } from './ota.js';
import { SCHEMA_VERSION, STORED_MAX_RANGES } from './limits.js';

const EpochMs = z.number().int().nonnegative().describe('milliseconds since the Unix epoch');
const ShortText = (max: number) => z.string().max(max);

/** Metric names: dotted lower-case words, e.g. `cpu.usage_pct`, `temp.zone0_c`. */
export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
export const MetricNameSchema = z.string().max(100).regex(METRIC_NAME_PATTERN, 'invalid metric name');

/**
 * Every device message carries the schema version and a per-device sequence number.
 * The sequence only grows (it survives restarts), so the cloud drops QoS 1 duplicates by (deviceId, seq).
 */
export const DeviceMessageBaseSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ts: EpochMs,
});

/**
 * Where a message sent from the box's on-disk spool sits in it (docs/protocol.md section 2, "Spool
 * positions"). Optional: boxes from before it send none and keep working. Spool record ids are contiguous
 * and only grow while `epoch` stays the same, so the cloud sees any id that never reached it as a gap;
 * a message whose ids it has seen is a redelivery. `epoch` changes only when the spool starts over
 * (a wiped state directory, a re-enrolled box), where ids start again at 1.
 */
/** The random id of a box spool's run of record ids (docs/protocol.md, "Spool positions"). */
const SpoolEpochSchema = z.string().min(1).max(64);

export const SpoolPositionSchema = z
  .object({
    epoch: SpoolEpochSchema,
    /** Ids of the first and last spool record the message holds (several telemetry records may be coalesced). */
    first: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    last: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** Every record id up to this one had left the spool when the message was sent (delivered, refused or dropped). */
    acked: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    /** Records this spool dropped unsent to stay within its size bound, since `epoch` began. */
    dropped: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  })
  .refine((spool) => spool.first <= spool.last && spool.acked < spool.first, {
    message: 'expected acked < first <= last',
  });
export type SpoolPosition = z.infer<typeof SpoolPositionSchema>;

/** The envelope of the channels a box sends through its spool: the base plus the optional spool position. */
const SpooledMessageBaseSchema = DeviceMessageBaseSchema.extend({ spool: SpoolPositionSchema.optional() });

// ---------------------------------------------------------------- device -> cloud

/** `up/status`, retained; the Last Will carries `offline`. */
export const StatusMessageSchema = DeviceMessageBaseSchema.extend({
  state: z.enum(['online', 'offline']),
  reason: ShortText(200).optional(),
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

export const HardwareInfoSchema = z.object({
  hostname: ShortText(255),
  platform: ShortText(32),
  arch: ShortText(32),
  osRelease: ShortText(255).optional(),
  cpuModel: ShortText(255).optional(),
  cpuCores: z.number().int().positive(),
  memTotalBytes: z.number().int().nonnegative(),
  machineId: ShortText(128).optional(),
});
export type HardwareInfo = z.infer<typeof HardwareInfoSchema>;

/**
 * What a box says it can do in `up/birth` (docs/protocol.md section 2); the schema takes any name, so a
 * newer box's capabilities reach an older fleet. `ota`: the device agent runs under the launcher with its
 * two slots, so it takes updates over the air; a box without it refuses every update offer.
 */
export const BOX_CAPABILITIES = ['telemetry', 'desired-state', 'commands', 'ota'] as const;
export type BoxCapability = (typeof BOX_CAPABILITIES)[number];

/** `up/birth`, sent after every connect, right after `online`. */
export const BirthMessageSchema = DeviceMessageBaseSchema.extend({
  agentVersion: ShortText(64),
  bootId: ShortText(64),
  hardware: HardwareInfoSchema,
  capabilities: z.array(ShortText(64)).max(100),
  /** Names of the metrics this box can report (absent sensors are left out). */
  metrics: z.array(MetricNameSchema).max(500),
  telemetryIntervalSec: z.number().positive().max(86_400),
  /** The box's X25519 public key (base64 DER SPKI) that provider secrets are sealed to. */
  secretsKey: z.string().min(1).max(200).optional(),
});
export type BirthMessage = z.infer<typeof BirthMessageSchema>;

export const TelemetrySampleSchema = z.object({
  ts: EpochMs,
  values: z.record(MetricNameSchema, z.number().finite()),
});
export type TelemetrySample = z.infer<typeof TelemetrySampleSchema>;

/** `up/telemetry`: one or more samples. */
export const TelemetryMessageSchema = SpooledMessageBaseSchema.extend({
  samples: z.array(TelemetrySampleSchema).min(1).max(1_000),
});
export type TelemetryMessage = z.infer<typeof TelemetryMessageSchema>;

/** `up/state`: the state the box reports after taking a desired-state document. */
export const ReportedStateMessageSchema = DeviceMessageBaseSchema.extend({
  /** Version of the last desired state the box has applied; null before it has taken any. */
  desiredVersion: z.number().int().nonnegative().nullable(),
  current: z.looseObject({
    /** The agents the box has installed, by id. */
    agents: z.record(AgentIdSchema, ReportedAgentSchema).optional(),
  }),
});
export type ReportedStateMessage = z.infer<typeof ReportedStateMessageSchema>;

export const DeviceEventSchema = z.object({
  type: z.string().min(1).max(100),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: ShortText(2_000),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

/** `up/events`. */
export const EventsMessageSchema = SpooledMessageBaseSchema.extend({
  events: z.array(DeviceEventSchema).min(1).max(100),
});
export type EventsMessage = z.infer<typeof EventsMessageSchema>;

export const CommandStatusSchema = z.enum(['succeeded', 'failed', 'rejected', 'expired']);
export type CommandStatus = z.infer<typeof CommandStatusSchema>;

/** `up/results/{commandId}`, also sent to the command's MQTT 5 response topic. */
export const CommandResultMessageSchema = DeviceMessageBaseSchema.extend({
  commandId: CommandIdSchema,
  status: CommandStatusSchema,
  output: z.unknown().optional(),
  error: ShortText(2_000).optional(),
});
export type CommandResultMessage = z.infer<typeof CommandResultMessageSchema>;

/** `up/runs`: run summaries, sent through the box's spool; the cloud keeps the latest status per run id. */
export const RunsMessageSchema = SpooledMessageBaseSchema.extend({
  runs: z.array(RunRecordSchema).min(1).max(100),
});
export type RunsMessage = z.infer<typeof RunsMessageSchema>;

/** `up/run-events`: the steps of runs, in order per run. */
export const RunEventsMessageSchema = SpooledMessageBaseSchema.extend({
  events: z.array(RunEventSchema).min(1).max(200),
});
export type RunEventsMessage = z.infer<typeof RunEventsMessageSchema>;

/** `up/usage`: token usage, one record per model call; each record id counts once. */
export const UsageMessageSchema = SpooledMessageBaseSchema.extend({
  records: z.array(UsageRecordSchema).min(1).max(500),
});
export type UsageMessage = z.infer<typeof UsageMessageSchema>;

/** `up/update`: the box's progress through an over-the-air update, sent through its spool. */
export const UpdateMessageSchema = SpooledMessageBaseSchema.extend({
  reports: z.array(UpdateStatusReportSchema).min(1).max(50),
});
export type UpdateMessage = z.infer<typeof UpdateMessageSchema>;

// ---------------------------------------------------------------- cloud -> device

/** `down/desired`, retained and versioned; the box always takes the whole document. */
export const DesiredStateMessageSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  version: z.number().int().nonnegative(),
  ts: EpochMs,
  spec: z.looseObject({
    telemetry: z.object({ intervalSec: z.number().min(1).max(3_600) }).optional(),
    /** The agents this box must run; absent means "leave the agents as they are" (older clouds). */
    agents: z.array(DesiredAgentSchema).max(200).optional(),
    /** The model providers those agents use, with their API keys sealed for this box. */
    providers: z.array(DesiredProviderSchema).max(50).optional(),
    /** An over-the-air update of the device agent to take; absent means none is offered. */
    update: UpdateOfferSchema.optional(),
  }),
});
export type DesiredStateMessage = z.infer<typeof DesiredStateMessageSchema>;

const SpoolRecordId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * `down/stored`: the fleet service committed (or refused for good) the spool records `first..last` of each
 * range, of the box's spool `epoch`, so the box may delete them. Sent after the transaction commits, at
 * most once per box per committed batch (docs/protocol.md, "Acknowledged means stored").
 */
export const StoredMessageSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  epoch: SpoolEpochSchema,
  ranges: z
    .array(
      z
        .tuple([SpoolRecordId, SpoolRecordId])
        .refine(([first, last]) => first <= last, { message: 'expected first <= last' }),
    )
    .min(1)
    .max(STORED_MAX_RANGES),
});
export type StoredMessage = z.infer<typeof StoredMessageSchema>;

/** `down/commands/{commandId}`: MQTT 5 request; the reply goes to the response topic with the correlation data. */
export const CommandMessageSchema = z.object({
  v: z.literal(SCHEMA_VERSION),
  id: CommandIdSchema,
  name: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'invalid command name'),
  args: z.record(z.string(), z.unknown()),
  issuedAt: EpochMs,
  expiresAt: EpochMs,
});
export type CommandMessage = z.infer<typeof CommandMessageSchema>;

/** The schema for each `up/` channel. */
export const upMessageSchemas = {
  status: StatusMessageSchema,
  birth: BirthMessageSchema,
  telemetry: TelemetryMessageSchema,
  state: ReportedStateMessageSchema,
  events: EventsMessageSchema,
  results: CommandResultMessageSchema,
  runs: RunsMessageSchema,
  'run-events': RunEventsMessageSchema,
  usage: UsageMessageSchema,
  update: UpdateMessageSchema,
} as const;

export type UpMessageByChannel = {
  [K in keyof typeof upMessageSchemas]: z.infer<(typeof upMessageSchemas)[K]>;
};

export const downMessageSchemas = {
  desired: DesiredStateMessageSchema,
  commands: CommandMessageSchema,
  stored: StoredMessageSchema,
} as const;
