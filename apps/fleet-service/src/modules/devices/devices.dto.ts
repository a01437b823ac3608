import type { DeviceDto } from '@agentbox/schemas';
import type { Device } from './device.entity.js';

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
