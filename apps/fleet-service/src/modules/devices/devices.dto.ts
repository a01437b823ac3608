import { z } from 'zod';
import {
  BirthMessageSchema,
  DeviceIdSchema,
  HardwareIdSchema,
  HardwareInfoSchema,
  TagSchema,
} from '@agentbox/schemas';
import type { Device } from './device.entity.js';

const IsoTimestamp = z.iso.datetime();

/** A device as the API returns it (never the secret hash). */
export const DeviceDtoSchema = z.object({
  id: DeviceIdSchema,
  name: z.string(),
  hardwareId: HardwareIdSchema,
  tags: z.array(TagSchema),
  online: z.boolean(),
  lastSeenAt: IsoTimestamp.nullable(),
  connectedAt: IsoTimestamp.nullable(),
  agentVersion: BirthMessageSchema.shape.agentVersion.nullable(),
  hardware: HardwareInfoSchema.nullable(),
  capabilities: BirthMessageSchema.shape.capabilities,
  metrics: BirthMessageSchema.shape.metrics,
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp,
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

export function toDeviceDto(device: Device): DeviceDto {
  return {
    id: device.id,
    name: device.name,
    hardwareId: device.hardwareId,
    tags: device.tags,
    online: device.online,
    lastSeenAt: device.lastSeenAt?.toISOString() ?? null,
    connectedAt: device.connectedAt?.toISOString() ?? null,
    agentVersion: device.agentVersion,
    hardware: device.hardware,
    capabilities: device.capabilities,
    metrics: device.metrics,
    createdAt: device.createdAt.toISOString(),
    updatedAt: device.updatedAt.toISOString(),
  };
}
