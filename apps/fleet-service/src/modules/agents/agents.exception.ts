import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum AgentExceptionCode {
  NOT_FOUND = 'AGENT_NOT_FOUND',
  EXISTS = 'AGENT_EXISTS',
  /** The definition names a provider (model or fallback) that is not defined. */
  UNKNOWN_PROVIDER = 'AGENT_PROVIDER_UNKNOWN',
  ASSIGNMENT_NOT_FOUND = 'ASSIGNMENT_NOT_FOUND',
  DEVICE_OFFLINE = 'DEVICE_OFFLINE',
  /** The box answered the task with rejected, failed or expired. */
  TASK_REJECTED = 'TASK_REJECTED',
  /** The box did not answer the task in time. */
  TASK_TIMEOUT = 'TASK_TIMEOUT',
}

export class AgentException extends domainException(AgentExceptionCode, {
  [HttpStatus.NOT_FOUND]: [AgentExceptionCode.NOT_FOUND, AgentExceptionCode.ASSIGNMENT_NOT_FOUND],
  [HttpStatus.CONFLICT]: [
    AgentExceptionCode.EXISTS,
    AgentExceptionCode.DEVICE_OFFLINE,
    AgentExceptionCode.TASK_REJECTED,
  ],
  [HttpStatus.BAD_REQUEST]: [AgentExceptionCode.UNKNOWN_PROVIDER],
  [HttpStatus.GATEWAY_TIMEOUT]: [AgentExceptionCode.TASK_TIMEOUT],
}) {}
