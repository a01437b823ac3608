import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class ProviderException extends domainException({
  PROVIDER_NOT_FOUND: HttpStatus.NOT_FOUND,
  PROVIDER_EXISTS: HttpStatus.CONFLICT,
  PROVIDER_IN_USE: HttpStatus.CONFLICT,
}) {}

export type ProviderExceptionCode = ExceptionCode<typeof ProviderException>;
