import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class AlertException extends domainException({
  ALERT_RULE_NOT_FOUND: HttpStatus.NOT_FOUND,
  /** The rule names a notification channel that does not exist. */
  ALERT_CHANNEL_UNKNOWN: HttpStatus.BAD_REQUEST,
  /** The rule, as changed, misses what its kind needs. */
  ALERT_RULE_INVALID: HttpStatus.BAD_REQUEST,
  SILENCE_NOT_FOUND: HttpStatus.NOT_FOUND,
}) {}

export type AlertExceptionCode = ExceptionCode<typeof AlertException>;
