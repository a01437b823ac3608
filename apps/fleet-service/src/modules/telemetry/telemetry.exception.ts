import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class TelemetryException extends domainException({
  /** The span at the resolution asked for would hold more points than one answer carries. */
  TELEMETRY_TOO_MANY_POINTS: HttpStatus.BAD_REQUEST,
}) {}

export type TelemetryExceptionCode = ExceptionCode<typeof TelemetryException>;
