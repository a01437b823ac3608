import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum RolloutExceptionCode {
  NOT_FOUND = 'ROLLOUT_NOT_FOUND',
  /** Start, pause, resume, cancel or retry that does not fit the rollout's status. */
  INVALID_TRANSITION = 'ROLLOUT_INVALID_TRANSITION',
  /** The release has no uploaded bundle yet. */
  RELEASE_NOT_READY = 'ROLLOUT_RELEASE_NOT_READY',
  /** The targets match no box. */
  NO_TARGETS = 'ROLLOUT_NO_TARGETS',
  /** A box named in deviceIds is not registered. */
  UNKNOWN_DEVICE = 'ROLLOUT_UNKNOWN_DEVICE',
  /** Some targets are already in another rollout that has not ended. */
  TARGETS_BUSY = 'ROLLOUT_TARGETS_BUSY',
}

export class RolloutException extends domainException(RolloutExceptionCode, {
  [HttpStatus.NOT_FOUND]: [RolloutExceptionCode.NOT_FOUND],
  [HttpStatus.CONFLICT]: [
    RolloutExceptionCode.INVALID_TRANSITION,
    RolloutExceptionCode.RELEASE_NOT_READY,
    RolloutExceptionCode.TARGETS_BUSY,
  ],
  [HttpStatus.BAD_REQUEST]: [RolloutExceptionCode.NO_TARGETS, RolloutExceptionCode.UNKNOWN_DEVICE],
}) {}
