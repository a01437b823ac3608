import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum DesiredStateExceptionCode {
  /** The document would not fit the MQTT payload cap once encoded. */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
}

export class DesiredStateException extends domainException(DesiredStateExceptionCode, {
  [HttpStatus.PAYLOAD_TOO_LARGE]: [DesiredStateExceptionCode.PAYLOAD_TOO_LARGE],
}) {
  constructor(
    code: DesiredStateExceptionCode,
    message: string,
    /** The encoded size and the cap, for callers that word the refusal their own way. */
    readonly size: { bytes: number; cap: number },
  ) {
    super(code, message);
  }
}
