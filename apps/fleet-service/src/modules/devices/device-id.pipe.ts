import type { PipeTransform } from '@nestjs/common';
import { isValidDeviceId } from '@agentbox/schemas';
import { DeviceException } from './devices.exception.js';

/** Path ids must match DEVICE_ID_PATTERN before they reach the database. */
export class DeviceIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidDeviceId(value)) throw new DeviceException('INVALID_DEVICE_ID', value);
    return value;
  }
}
