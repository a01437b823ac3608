import { z } from 'zod';
import { DeviceIdSchema } from '../ids.js';
import { BirthMessageSchema, HardwareInfoSchema } from '../messages.js';
import { NameSchema, TagSchema } from '../names.js';
import { IsoTimestampSchema } from './common.js';
import { HardwareIdSchema } from './provisioning.js';

export const DeviceUpdateRequestSchema = z.object({
  name: NameSchema.optional(),
  tags: z.array(TagSchema).max(50).optional(),
});
export type DeviceUpdateRequest = z.infer<typeof DeviceUpdateRequestSchema>;

/** A device as the API returns it (never the secret hash). */
export const DeviceDtoSchema = z.object({
  id: DeviceIdSchema,
  name: z.string(),
  hardwareId: HardwareIdSchema,
  tags: z.array(TagSchema),
  online: z.boolean(),
  lastSeenAt: IsoTimestampSchema.nullable(),
  connectedAt: IsoTimestampSchema.nullable(),
  agentVersion: BirthMessageSchema.shape.agentVersion.nullable(),
  hardware: HardwareInfoSchema.nullable(),
  capabilities: BirthMessageSchema.shape.capabilities,
  metrics: BirthMessageSchema.shape.metrics,
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
});
export type DeviceDto = z.infer<typeof DeviceDtoSchema>;

export const DeviceListResponseSchema = z.object({
  items: z.array(DeviceDtoSchema),
  total: z.number().int().nonnegative(),
});
export type DeviceListResponse = z.infer<typeof DeviceListResponseSchema>;

export const DEVICE_SORT_FIELDS = ['name', 'lastSeenAt', 'createdAt'] as const;

/** Query string of GET /api/v1/devices. */
export const DeviceListQuerySchema = z.object({
  q: z.string().max(100).optional().describe('case-insensitive text search in name, id and hardwareId'),
  online: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  tag: TagSchema.optional(),
  sort: z.enum(DEVICE_SORT_FIELDS).default('name'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export type DeviceListQuery = z.output<typeof DeviceListQuerySchema>;
