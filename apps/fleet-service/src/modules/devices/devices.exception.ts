import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class DeviceException extends domainException({
  DEVICE_NOT_FOUND: HttpStatus.NOT_FOUND,
  INVALID_DEVICE_ID: HttpStatus.BAD_REQUEST,
}) {
  constructor(code: DeviceExceptionCode, deviceId: string) {
    super(code, DeviceException.describe(code, deviceId));
  }

  private static describe(code: DeviceExceptionCode, deviceId: string): string {
    switch (code) {
      case 'DEVICE_NOT_FOUND':
        return `Device ${deviceId} not found`;
      case 'INVALID_DEVICE_ID':
        return `Invalid device id ${JSON.stringify(deviceId.slice(0, 80))}: 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"`;
    }
  }
}

export type DeviceExceptionCode = ExceptionCode<typeof DeviceException>;
