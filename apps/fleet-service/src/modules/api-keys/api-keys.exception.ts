import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum ApiKeyExceptionCode {
  /** Unknown key, wrong secret, or its creator no longer exists. */
  API_KEY_INVALID = 'API_KEY_INVALID',
  API_KEY_REVOKED = 'API_KEY_REVOKED',
  API_KEY_EXPIRED = 'API_KEY_EXPIRED',
  API_KEY_NOT_FOUND = 'API_KEY_NOT_FOUND',
  /** A key may not get a role above its creator's. */
  API_KEY_ROLE_TOO_HIGH = 'API_KEY_ROLE_TOO_HIGH',
  /** Keys are managed by signed-in admins only, so a leaked key cannot mint or keep others. */
  API_KEY_NOT_ALLOWED = 'API_KEY_NOT_ALLOWED',
  API_KEY_EXPIRY_PAST = 'API_KEY_EXPIRY_PAST',
}

export class ApiKeyException extends domainException(ApiKeyExceptionCode, {
  [HttpStatus.UNAUTHORIZED]: [
    ApiKeyExceptionCode.API_KEY_INVALID,
    ApiKeyExceptionCode.API_KEY_REVOKED,
    ApiKeyExceptionCode.API_KEY_EXPIRED,
  ],
  [HttpStatus.NOT_FOUND]: [ApiKeyExceptionCode.API_KEY_NOT_FOUND],
  [HttpStatus.FORBIDDEN]: [
    ApiKeyExceptionCode.API_KEY_ROLE_TOO_HIGH,
    ApiKeyExceptionCode.API_KEY_NOT_ALLOWED,
  ],
  [HttpStatus.BAD_REQUEST]: [ApiKeyExceptionCode.API_KEY_EXPIRY_PAST],
}) {}
