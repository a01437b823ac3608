import { z } from 'zod';
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
]);
export type LiveEvent = z.infer<typeof LiveEventSchema>;
