import { DomainException } from '../../common/errors/domain-exception.js';

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

export class ApiKeyException extends DomainException<ApiKeyExceptionCode> {
  constructor(code: ApiKeyExceptionCode, message: string) {
    super(code, message);
  }
}
