import { z } from 'zod';
import { AgentIdSchema, RecordIdSchema } from '../agents.js';
import { DeviceIdSchema } from '../ids.js';
import { NameSchema } from '../names.js';

/** A hook's id: 16 lowercase base32 characters, part of its invoke URL. */
export const HookIdSchema = z.string().regex(/^[a-z2-7]{16}$/, 'not a hook id');

/** Largest JSON body `POST /api/v1/hooks/{id}/invoke` accepts (413 HOOK_BODY_TOO_LARGE above). */
export const HOOK_BODY_MAX_BYTES = 256 * 1024;
/**
 * Longest run input a box takes (the `agent.run` command's `input`): a body relayed as the run's input
 * must fit it (413 HOOK_INPUT_TOO_LARGE above).
 */
export const HOOK_INPUT_MAX_CHARS = 10_000;
/** Longest `?wait=` of an invocation, in seconds. */
export const HOOK_WAIT_MAX_SEC = 60;
/** How far a signature's timestamp may be from the service's clock, and how long a signature is remembered. */
export const HOOK_SIGNATURE_WINDOW_SEC = 300;

export const HookCreateRequestSchema = z.object({
  name: NameSchema,
  agentId: AgentIdSchema,
  deviceId: DeviceIdSchema,
  /** How long an invocation waits for an offline box before it expires; the service default when left out. */
  deliveryTtlSec: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
});
export type HookCreateRequest = z.input<typeof HookCreateRequestSchema>;

export const HOOK_DELIVERY_STATUSES = ['queued', 'delivering', 'delivered', 'expired', 'failed'] as const;
export const HookDeliveryStatusSchema = z.enum(HOOK_DELIVERY_STATUSES);
export type HookDeliveryStatus = z.infer<typeof HookDeliveryStatusSchema>;

export const HookDtoSchema = z.object({
  id: HookIdSchema,
  name: z.string(),
  agentId: AgentIdSchema,
  deviceId: DeviceIdSchema,
  /** Where callers send invocations. */
  url: z.string(),
  deliveryTtlSec: z.number().int(),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
  secretRotatedAt: z.iso.datetime(),
  lastInvokedAt: z.iso.datetime().nullable(),
  /** Deliveries by status (invocations queued while the box was offline, and what became of them). */
  deliveries: z.object({
    queued: z.number().int(),
    delivered: z.number().int(),
    expired: z.number().int(),
    failed: z.number().int(),
  }),
});
export type HookDto = z.infer<typeof HookDtoSchema>;

export const HookListResponseSchema = z.object({ items: z.array(HookDtoSchema) });
export type HookListResponse = z.infer<typeof HookListResponseSchema>;

export const HookCreatedDtoSchema = HookDtoSchema.extend({
  /** The hook's secret, `abh_...`: in this response only, never again (rotate to get a new one). */
  secret: z.string(),
});
export type HookCreatedDto = z.infer<typeof HookCreatedDtoSchema>;

export const HookDeliveryDtoSchema = z.object({
  id: z.string(),
  hookId: HookIdSchema,
  status: HookDeliveryStatusSchema,
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  deliveredAt: z.iso.datetime().nullable(),
  runId: RecordIdSchema.nullable(),
  error: z.string().nullable(),
  /** Size of the relayed input in bytes. */
  bytes: z.number().int(),
});
export type HookDeliveryDto = z.infer<typeof HookDeliveryDtoSchema>;

export const HookDeliveryListResponseSchema = z.object({ items: z.array(HookDeliveryDtoSchema) });
export type HookDeliveryListResponse = z.infer<typeof HookDeliveryListResponseSchema>;

/** 202: the box took the invocation and named its run (the run had not ended within `?wait`). */
export const HookInvokeAcceptedSchema = z.object({ runId: RecordIdSchema });
/** 200 with `?wait`: the run ended in time. */
export const HookInvokeResultSchema = z.object({
  runId: RecordIdSchema,
  status: z.string(),
  output: z.string().nullable(),
  error: z.string().nullable(),
});
/** 202: the box is offline; the invocation waits for it until `expiresAt`. */
export const HookInvokeQueuedSchema = z.object({
  deliveryId: z.string(),
  status: z.literal('queued'),
  expiresAt: z.iso.datetime(),
});
export const HookInvokeResponseSchema = z.union([
  HookInvokeResultSchema,
  HookInvokeAcceptedSchema,
  HookInvokeQueuedSchema,
]);
export type HookInvokeResponse = z.infer<typeof HookInvokeResponseSchema>;
