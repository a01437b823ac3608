import { z } from 'zod';
import { RunEventSchema, RunRecordSchema, UsageRecordSchema } from './agents.js';
import { ConversationMessageDtoSchema } from './http/conversations.js';
import { TelemetrySampleSchema } from './messages.js';

/** Server-sent events the fleet service streams to the console (`GET /api/v1/live`). */
export const LiveEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('device.status'),
    deviceId: z.string(),
    online: z.boolean(),
    lastSeenAt: z.string().nullable(),
  }),
  z.object({
    type: z.literal('device.updated'),
    deviceId: z.string(),
  }),
  z.object({
    type: z.literal('telemetry'),
    deviceId: z.string(),
    samples: z.array(TelemetrySampleSchema),
  }),
  /** A run started, changed status or ended. */
  z.object({ type: z.literal('run'), deviceId: z.string(), run: RunRecordSchema }),
  z.object({ type: z.literal('run.events'), deviceId: z.string(), events: z.array(RunEventSchema) }),
  z.object({ type: z.literal('usage'), deviceId: z.string(), records: z.array(UsageRecordSchema) }),
  /** A box reported new agent states (up/state). */
  z.object({ type: z.literal('device.agents'), deviceId: z.string() }),
  /** A rollout changed: status, phase or the status of one of its boxes. */
  z.object({ type: z.literal('rollout'), rolloutId: z.string() }),
  /** A box reported progress of an over-the-air update (up/update); its update history grew. */
  z.object({ type: z.literal('device.update'), deviceId: z.string(), rolloutId: z.string() }),
  /** A message was added to a conversation: a user's, or the answer (or failure) of its run. */
  z.object({
    type: z.literal('conversation.message'),
    conversationId: z.string(),
    deviceId: z.string(),
    message: ConversationMessageDtoSchema,
  }),
  /** The number of firing alerts changed (an alert fired or resolved). */
  z.object({ type: z.literal('alert'), firing: z.number().int().nonnegative() }),
]);
export type LiveEvent = z.infer<typeof LiveEventSchema>;
