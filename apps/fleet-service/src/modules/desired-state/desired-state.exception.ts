import { DomainException } from '../../common/errors/domain-exception.js';

export enum DesiredStateExceptionCode {
  /** The document would not fit the MQTT payload cap once encoded. */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
}

export class DesiredStateException extends DomainException<DesiredStateExceptionCode> {
  constructor(
    code: DesiredStateExceptionCode,
    message: string,
    /** The encoded size and the cap, for callers that word the refusal their own way. */
    readonly size: { bytes: number; cap: number },
  ) {
    super(code, message);
  }
}
