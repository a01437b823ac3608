import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class RolloutException extends domainException({
  ROLLOUT_NOT_FOUND: HttpStatus.NOT_FOUND,
  /** Start, pause, resume, cancel or retry that does not fit the rollout's status. */
  ROLLOUT_INVALID_TRANSITION: HttpStatus.CONFLICT,
  /** The release has no uploaded bundle yet. */
  ROLLOUT_RELEASE_NOT_READY: HttpStatus.CONFLICT,
  /** The targets match no box. */
  ROLLOUT_NO_TARGETS: HttpStatus.BAD_REQUEST,
  /** A box named in deviceIds is not registered. */
  ROLLOUT_UNKNOWN_DEVICE: HttpStatus.BAD_REQUEST,
  /** Some targets are already in another rollout that has not ended. */
  ROLLOUT_TARGETS_BUSY: HttpStatus.CONFLICT,
}) {}

export type RolloutExceptionCode = ExceptionCode<typeof RolloutException>;
