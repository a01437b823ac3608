import { DomainException } from '../../common/errors/domain-exception.js';

export enum AuthExceptionCode {
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  TOO_MANY_ATTEMPTS = 'TOO_MANY_ATTEMPTS',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  USERNAME_TAKEN = 'USERNAME_TAKEN',
}

export class AuthException extends DomainException<AuthExceptionCode> {
  constructor(code: AuthExceptionCode, message: string) {
    super(code, message);
  }
}
