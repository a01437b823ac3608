import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum DeviceExceptionCode {
  NOT_FOUND = 'DEVICE_NOT_FOUND',
  INVALID_ID = 'INVALID_DEVICE_ID',
}

export class DeviceException extends domainException(DeviceExceptionCode, {
  [HttpStatus.NOT_FOUND]: [DeviceExceptionCode.NOT_FOUND],
  [HttpStatus.BAD_REQUEST]: [DeviceExceptionCode.INVALID_ID],
}) {
  constructor(code: DeviceExceptionCode, deviceId: string) {
    super(code, DeviceException.describe(code, deviceId));
  }

  private static describe(code: DeviceExceptionCode, deviceId: string): string {
    switch (code) {
      case DeviceExceptionCode.NOT_FOUND:
        return `Device ${deviceId} not found`;
      case DeviceExceptionCode.INVALID_ID:
        return `Invalid device id ${JSON.stringify(deviceId.slice(0, 80))}: 1-64 characters of A-Z, a-z, 0-9, ".", "_" or "-"`;
    }
  }
}
