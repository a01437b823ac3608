import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class ConversationException extends domainException({
  CONVERSATION_NOT_FOUND: HttpStatus.NOT_FOUND,
}) {}

export type ConversationExceptionCode = ExceptionCode<typeof ConversationException>;
