import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class AuthException extends domainException({
  INVALID_CREDENTIALS: HttpStatus.UNAUTHORIZED,
  TOO_MANY_ATTEMPTS: HttpStatus.TOO_MANY_REQUESTS,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  USERNAME_TAKEN: HttpStatus.CONFLICT,
  /** Right password, but an admin disabled the user. */
  USER_DISABLED: HttpStatus.FORBIDDEN,
  USER_NOT_FOUND: HttpStatus.NOT_FOUND,
  /** The change would leave no enabled admin: nobody could manage users any more. */
  LAST_ADMIN: HttpStatus.CONFLICT,
  /** Admins may not delete or disable themselves; another admin does. */
  SELF_CHANGE_REFUSED: HttpStatus.CONFLICT,
  /** Changing one's password needs the current one; 400, not 401, so the session stays open. */
  CURRENT_PASSWORD_WRONG: HttpStatus.BAD_REQUEST,
}) {}

export type AuthExceptionCode = ExceptionCode<typeof AuthException>;
