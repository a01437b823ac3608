import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class NotificationException extends domainException({
  CHANNEL_NOT_FOUND: HttpStatus.NOT_FOUND,
  /** A rule still sends to the channel. */
  CHANNEL_IN_USE: HttpStatus.CONFLICT,
  /** A change names fields of another channel type (a URL for e-mail, an SMTP host for a robot). */
  CHANNEL_CONFIG_MISMATCH: HttpStatus.BAD_REQUEST,
}) {}

export type NotificationExceptionCode = ExceptionCode<typeof NotificationException>;
