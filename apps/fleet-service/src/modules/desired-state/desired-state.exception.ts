import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class DesiredStateException extends domainException({
  /** The document would not fit the MQTT payload cap once encoded. */
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
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

export type DesiredStateExceptionCode = ExceptionCode<typeof DesiredStateException>;
