import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum ProviderExceptionCode {
  NOT_FOUND = 'PROVIDER_NOT_FOUND',
  EXISTS = 'PROVIDER_EXISTS',
  IN_USE = 'PROVIDER_IN_USE',
}

export class ProviderException extends domainException(ProviderExceptionCode, {
  [HttpStatus.NOT_FOUND]: [ProviderExceptionCode.NOT_FOUND],
  [HttpStatus.CONFLICT]: [ProviderExceptionCode.EXISTS, ProviderExceptionCode.IN_USE],
}) {}
