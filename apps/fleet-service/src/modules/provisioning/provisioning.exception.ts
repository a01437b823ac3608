import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

const MESSAGES = {
  CLAIM_TOKEN_INVALID: 'Unknown claim token',
  CLAIM_TOKEN_EXPIRED: 'The claim token has expired',
  CLAIM_TOKEN_EXHAUSTED: 'The claim token has been used up',
  CLAIM_TOKEN_REVOKED: 'The claim token has been revoked',
  CLAIM_TOKEN_NOT_FOUND: 'Claim token not found',
} satisfies Record<ProvisioningExceptionCode, string>;

export class ProvisioningException extends domainException({
  CLAIM_TOKEN_INVALID: HttpStatus.UNAUTHORIZED,
  CLAIM_TOKEN_EXPIRED: HttpStatus.UNAUTHORIZED,
  CLAIM_TOKEN_EXHAUSTED: HttpStatus.UNAUTHORIZED,
  CLAIM_TOKEN_REVOKED: HttpStatus.UNAUTHORIZED,
  CLAIM_TOKEN_NOT_FOUND: HttpStatus.NOT_FOUND,
}) {
  constructor(code: ProvisioningExceptionCode, detail?: string) {
    super(code, detail ? `${MESSAGES[code]}: ${detail}` : MESSAGES[code]);
  }
}

export type ProvisioningExceptionCode = ExceptionCode<typeof ProvisioningException>;
