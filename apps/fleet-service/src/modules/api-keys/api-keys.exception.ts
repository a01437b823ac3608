import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class ApiKeyException extends domainException({
  /** Unknown key, wrong secret, or its creator no longer exists. */
  API_KEY_INVALID: HttpStatus.UNAUTHORIZED,
  API_KEY_REVOKED: HttpStatus.UNAUTHORIZED,
  API_KEY_EXPIRED: HttpStatus.UNAUTHORIZED,
  API_KEY_NOT_FOUND: HttpStatus.NOT_FOUND,
  /** A key may not get a role above its creator's. */
  API_KEY_ROLE_TOO_HIGH: HttpStatus.FORBIDDEN,
  /** Keys are managed by signed-in admins only, so a leaked key cannot mint or keep others. */
  API_KEY_NOT_ALLOWED: HttpStatus.FORBIDDEN,
  API_KEY_EXPIRY_PAST: HttpStatus.BAD_REQUEST,
}) {}

export type ApiKeyExceptionCode = ExceptionCode<typeof ApiKeyException>;
