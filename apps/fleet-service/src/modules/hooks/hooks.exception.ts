import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class HookException extends domainException({
  HOOK_NOT_FOUND: HttpStatus.NOT_FOUND,
  /** Missing or wrong secret, or a signature that does not match. */
  HOOK_UNAUTHORIZED: HttpStatus.UNAUTHORIZED,
  /** `X-AgentBox-Timestamp` is missing, malformed or more than 5 minutes from the service's clock. */
  HOOK_SIGNATURE_STALE: HttpStatus.UNAUTHORIZED,
  /** The same signature was already used within the 5-minute window. */
  HOOK_SIGNATURE_REPLAYED: HttpStatus.UNAUTHORIZED,
  /** The body is larger than 256 KiB. */
  HOOK_BODY_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  /** The body is longer than the run input a box takes (10,000 characters). */
  HOOK_INPUT_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  /** Too many invocations of this hook; Retry-After says when to try again. */
  HOOK_RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  /** The hook's box was removed. */
  HOOK_DEVICE_GONE: HttpStatus.CONFLICT,
}) {}

export type HookExceptionCode = ExceptionCode<typeof HookException>;
