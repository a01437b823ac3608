import { z } from 'zod';
import { nameSchema, TagSchema } from '../names.js';
import { UPDATE_REASONS, UPDATE_STATUSES } from '../ota.js';
import { IsoTimestampSchema } from './common.js';

export const ROLLOUT_STATUSES = ['draft', 'running', 'paused', 'completed', 'aborted', 'canceled'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/** Why a rollout is paused: an operator asked, or a phase ended and waits for a person. */
export const PAUSE_REASONS = ['operator', 'awaiting-approval', 'below-threshold'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

const HhMm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time of day as HH:MM');

export const RolloutTargetsSchema = z.union([
  z.object({ all: z.literal(true) }).strict(),
  z.object({ tags: z.array(TagSchema).min(1).max(50) }).strict(),
  z.object({ deviceIds: z.array(z.string().min(1).max(64)).min(1).max(10_000) }).strict(),
]);

export const RolloutPhaseSchema = z
  .object({
    name: nameSchema(64),
    /** Boxes reached once this phase runs, counting earlier phases (cumulative). */
    count: z.number().int().min(0).optional(),
    /** Share of the targets reached once this phase runs (cumulative). */
    percent: z.number().min(0).max(100).optional(),
  })
  .strict()
  .refine((phase) => (phase.count === undefined) !== (phase.percent === undefined), {
    message: 'a phase has either count or percent',
  });

export const RolloutCreateRequestSchema = z
  .object({
    releaseId: z.string().min(1).max(36),
    targets: RolloutTargetsSchema,
    phases: z.union([
      z.array(RolloutPhaseSchema).min(1).max(20),
      z
        .object({
          exponential: z
            .object({ start: z.number().int().min(1).max(10_000), factor: z.number().min(1).max(100) })
            .strict(),
        })
        .strict(),
    ]),
    /** Share of a phase's boxes that must end healthy before the next phase. */
    successThresholdPct: z.number().min(0).max(100).default(100),
    /** Move to the next phase by itself once the threshold is met; otherwise pause for a person. */
    autoAdvance: z.boolean().default(true),
    /** Abort once failures reach failurePct of the finished boxes, with at least minFinished finished. */
    abort: z
      .object({ failurePct: z.number().min(1).max(100), minFinished: z.number().int().min(0).max(100_000) })
      .strict()
      .default({ failurePct: 50, minFinished: 1 }),
    /**
     * A box that has not ended healthy or failed within this long after its offer fails (timeout). With a
     * maintenance window the wait at `downloaded` does not count; past it each step has this long.
     */
    perBoxTimeoutSec: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(3_600),
    maintenanceWindow: z.object({ start: HhMm, end: HhMm }).strict().optional(),
    /** Restart a box even while an agent run is in progress, after at most maxWaitSec. */
    force: z.boolean().default(false),
    maxWaitSec: z.number().int().min(0).max(86_400).default(600),
    healthDeadlineSec: z.number().int().min(10).max(3_600).default(120),
  })
  .strict();
export type RolloutCreateRequest = z.output<typeof RolloutCreateRequestSchema>;
/** What a client sends: fields with defaults may be left out. */
export type RolloutCreateBody = z.input<typeof RolloutCreateRequestSchema>;

/** What a rollout was created with, stored as is. */
export type RolloutSettings = Omit<RolloutCreateRequest, 'releaseId'>;

const StatusCountsSchema = z.record(z.string(), z.number().int().nonnegative());

export const RolloutDtoSchema = z.object({
  id: z.string(),
  releaseId: z.string(),
  releaseVersion: z.string(),
  status: z.enum(ROLLOUT_STATUSES),
  pauseReason: z.enum(PAUSE_REASONS).nullable(),
  /** Index of the phase being rolled out. */
  phase: z.number().int().nonnegative(),
  settings: RolloutCreateRequestSchema.omit({ releaseId: true }),
  totalBoxes: z.number().int().nonnegative(),
  /** Boxes per status over the whole rollout (`pending`: not offered yet). */
  counts: StatusCountsSchema,
  createdBy: z.string(),
  createdAt: IsoTimestampSchema,
  startedAt: IsoTimestampSchema.nullable(),
  endedAt: IsoTimestampSchema.nullable(),
  updatedAt: IsoTimestampSchema,
});
export type RolloutDto = z.infer<typeof RolloutDtoSchema>;

export const RolloutBoxDtoSchema = z.object({
  deviceId: z.string(),
  phase: z.number().int().nonnegative(),
  status: z.enum(['pending', ...UPDATE_STATUSES]),
  reason: z.string().nullable(),
  detail: z.string().nullable(),
  progress: z.object({ bytes: z.number(), total: z.number() }).nullable(),
  attempt: z.number().int().nonnegative(),
  offeredAt: IsoTimestampSchema.nullable(),
  updatedAt: IsoTimestampSchema,
});
export type RolloutBoxDto = z.infer<typeof RolloutBoxDtoSchema>;

export const RolloutPhaseDtoSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  /** Boxes [start, end) of the target list belong to this phase. */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  counts: StatusCountsSchema,
});

export const RolloutDetailDtoSchema = RolloutDtoSchema.extend({
  phases: z.array(RolloutPhaseDtoSchema),
  boxes: z.array(RolloutBoxDtoSchema),
});
export type RolloutDetailDto = z.infer<typeof RolloutDetailDtoSchema>;

export const RolloutListQuerySchema = z.object({
  status: z.enum(ROLLOUT_STATUSES).optional(),
  releaseId: z.string().min(1).max(36).optional(),
});

export const DeviceUpdateDtoSchema = z.object({
  id: z.string(),
  rolloutId: z.string(),
  attempt: z.number().int().positive(),
  version: z.string(),
  status: z.enum(UPDATE_STATUSES),
  reason: z.enum(UPDATE_REASONS).nullable(),
  detail: z.string().nullable(),
  progress: z.object({ bytes: z.number(), total: z.number() }).nullable(),
  runningVersion: z.string(),
  reportedAt: IsoTimestampSchema,
  receivedAt: IsoTimestampSchema,
});
export type DeviceUpdateDto = z.infer<typeof DeviceUpdateDtoSchema>;

export const DeviceUpdatesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1_000).default(200),
});
