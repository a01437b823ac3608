import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum ProvisioningExceptionCode {
  CLAIM_TOKEN_INVALID = 'CLAIM_TOKEN_INVALID',
  CLAIM_TOKEN_EXPIRED = 'CLAIM_TOKEN_EXPIRED',
  CLAIM_TOKEN_EXHAUSTED = 'CLAIM_TOKEN_EXHAUSTED',
  CLAIM_TOKEN_REVOKED = 'CLAIM_TOKEN_REVOKED',
  CLAIM_TOKEN_NOT_FOUND = 'CLAIM_TOKEN_NOT_FOUND',
}

const MESSAGES: Record<ProvisioningExceptionCode, string> = {
  [ProvisioningExceptionCode.CLAIM_TOKEN_INVALID]: 'Unknown claim token',
  [ProvisioningExceptionCode.CLAIM_TOKEN_EXPIRED]: 'The claim token has expired',
  [ProvisioningExceptionCode.CLAIM_TOKEN_EXHAUSTED]: 'The claim token has been used up',
  [ProvisioningExceptionCode.CLAIM_TOKEN_REVOKED]: 'The claim token has been revoked',
  [ProvisioningExceptionCode.CLAIM_TOKEN_NOT_FOUND]: 'Claim token not found',
};

export class ProvisioningException extends domainException(ProvisioningExceptionCode, {
  [HttpStatus.UNAUTHORIZED]: [
    ProvisioningExceptionCode.CLAIM_TOKEN_INVALID,
    ProvisioningExceptionCode.CLAIM_TOKEN_EXPIRED,
    ProvisioningExceptionCode.CLAIM_TOKEN_EXHAUSTED,
    ProvisioningExceptionCode.CLAIM_TOKEN_REVOKED,
  ],
  [HttpStatus.NOT_FOUND]: [ProvisioningExceptionCode.CLAIM_TOKEN_NOT_FOUND],
}) {
  constructor(code: ProvisioningExceptionCode, detail?: string) {
    super(code, detail ? `${MESSAGES[code]}: ${detail}` : MESSAGES[code]);
  }
}
