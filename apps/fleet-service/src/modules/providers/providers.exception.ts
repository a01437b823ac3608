import { DomainException } from '../../common/errors/domain-exception.js';

export enum ProviderExceptionCode {
  NOT_FOUND = 'PROVIDER_NOT_FOUND',
  EXISTS = 'PROVIDER_EXISTS',
  IN_USE = 'PROVIDER_IN_USE',
}

export class ProviderException extends DomainException<ProviderExceptionCode> {
  constructor(code: ProviderExceptionCode, message: string) {
    super(code, message);
  }
}
