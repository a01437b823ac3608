import { DomainException } from '../../common/errors/domain-exception.js';

export enum RunExceptionCode {
  NOT_FOUND = 'RUN_NOT_FOUND',
}

export class RunException extends DomainException<RunExceptionCode> {
  constructor(code: RunExceptionCode, message: string) {
    super(code, message);
  }
}
