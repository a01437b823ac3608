import { z } from 'zod';

export const LivenessSchema = z.object({ status: z.literal('ok') });

const CheckState = z.enum(['up', 'down']);
export const ReadinessSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.object({ database: CheckState, broker: CheckState }),
});
export type Readiness = z.infer<typeof ReadinessSchema>;
