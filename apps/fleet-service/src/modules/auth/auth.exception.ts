import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum AuthExceptionCode {
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  TOO_MANY_ATTEMPTS = 'TOO_MANY_ATTEMPTS',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  USERNAME_TAKEN = 'USERNAME_TAKEN',
}

export class AuthException extends domainException(AuthExceptionCode, {
  [HttpStatus.UNAUTHORIZED]: [AuthExceptionCode.INVALID_CREDENTIALS, AuthExceptionCode.UNAUTHENTICATED],
  [HttpStatus.FORBIDDEN]: [AuthExceptionCode.FORBIDDEN],
  [HttpStatus.TOO_MANY_REQUESTS]: [AuthExceptionCode.TOO_MANY_ATTEMPTS],
  [HttpStatus.CONFLICT]: [AuthExceptionCode.USERNAME_TAKEN],
}) {}
