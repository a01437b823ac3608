import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class AgentException extends domainException({
  AGENT_NOT_FOUND: HttpStatus.NOT_FOUND,
  AGENT_EXISTS: HttpStatus.CONFLICT,
  /** The definition names a provider (model or fallback) that is not defined. */
  AGENT_PROVIDER_UNKNOWN: HttpStatus.BAD_REQUEST,
  ASSIGNMENT_NOT_FOUND: HttpStatus.NOT_FOUND,
  ASSIGNMENT_JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  DEVICE_OFFLINE: HttpStatus.CONFLICT,
  /** The box answered the task with rejected, failed or expired. */
  TASK_REJECTED: HttpStatus.CONFLICT,
  /** The box did not answer the task in time. */
  TASK_TIMEOUT: HttpStatus.GATEWAY_TIMEOUT,
}) {}

export type AgentExceptionCode = ExceptionCode<typeof AgentException>;
