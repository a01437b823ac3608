import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class RunException extends domainException({
  RUN_NOT_FOUND: HttpStatus.NOT_FOUND,
}) {}

export type RunExceptionCode = ExceptionCode<typeof RunException>;
