import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum RunExceptionCode {
  NOT_FOUND = 'RUN_NOT_FOUND',
}

export class RunException extends domainException(RunExceptionCode, {
  [HttpStatus.NOT_FOUND]: [RunExceptionCode.NOT_FOUND],
}) {}
