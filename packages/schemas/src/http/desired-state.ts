import { z } from 'zod';
import { DesiredStateMessageSchema } from '../messages.js';

export const DesiredStateRequestSchema = z.object({ spec: DesiredStateMessageSchema.shape.spec });
export type DesiredStateRequest = z.infer<typeof DesiredStateRequestSchema>;

export const ReportedStateSchema = z.object({
  desiredVersion: z.number().int().nullable().describe('version of the desired document the box has applied'),
  current: z.record(z.string(), z.unknown()),
  seq: z.number().int(),
  reportedAt: z.string().describe('ISO 8601, when the fleet service received the report'),
});

export const DesiredStateResponseSchema = z.object({
  deviceId: z.string(),
  desired: DesiredStateMessageSchema.nullable().describe(
    'null until the box first came online or an operator set one',
  ),
  reported: ReportedStateSchema.nullable(),
  inSync: z.boolean().describe('true when the box reports the current desired version'),
});
export type DesiredStateResponse = z.infer<typeof DesiredStateResponseSchema>;
