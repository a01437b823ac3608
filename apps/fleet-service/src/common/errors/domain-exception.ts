import { HttpStatus } from '@nestjs/common';

/**
 * Base of every feature's domain exception: a stable machine-readable `code` (a string enum member
 * of the feature), a human message, and the HTTP status the code maps to (AllExceptionsFilter answers
 * with it; other transports ignore it).
 */
export abstract class DomainException<C extends string = string> extends Error {
  protected constructor(
    readonly code: C,
    message: string,
    readonly httpStatus: HttpStatus,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The constructor `domainException` returns: (code, message). */
export interface DomainExceptionClass<C extends string> {
  new (code: C, message: string): DomainException<C>;
  /** The HTTP status of every code of the feature. */
  readonly statuses: Readonly<Record<C, HttpStatus>>;
}

/**
 * The base class of a feature's exception: its code enum and, grouped by HTTP status, the codes that
 * answer with it. A code with no status, or with two, fails at load time (so at boot and in every test):
 * `export class RunException extends domainException(RunExceptionCode, { [HttpStatus.NOT_FOUND]: [RunExceptionCode.NOT_FOUND] }) {}`
 */
export function domainException<C extends string>(
  codes: Record<string, C>,
  byStatus: Partial<Record<HttpStatus, readonly C[]>>,
): DomainExceptionClass<C> {
  const statuses = {} as Record<C, HttpStatus>;
  for (const [status, members] of Object.entries<readonly C[] | undefined>(byStatus)) {
    if (!members) continue;
    for (const code of members) {
      if (code in statuses) throw new Error(`${code} is given two HTTP statuses`);
      statuses[code] = Number(status);
    }
  }
  const missing = Object.values(codes).filter((code) => !(code in statuses));
  if (missing.length > 0) throw new Error(`No HTTP status for ${missing.join(', ')}`);
  return class extends DomainException<C> {
    static readonly statuses: Readonly<Record<C, HttpStatus>> = statuses;

    constructor(code: C, message: string) {
      super(code, message, statuses[code]);
    }
  };
}

/** Codes not owned by one feature: request shape, routing, authentication plumbing. */
export enum CommonExceptionCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  MALFORMED_BODY = 'MALFORMED_BODY',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  NOT_FOUND = 'NOT_FOUND',
  INTERNAL = 'INTERNAL',
}

export class CommonException extends domainException(CommonExceptionCode, {
  [HttpStatus.BAD_REQUEST]: [CommonExceptionCode.VALIDATION_FAILED, CommonExceptionCode.MALFORMED_BODY],
  [HttpStatus.PAYLOAD_TOO_LARGE]: [CommonExceptionCode.PAYLOAD_TOO_LARGE],
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: [CommonExceptionCode.UNSUPPORTED_MEDIA_TYPE],
  [HttpStatus.NOT_FOUND]: [CommonExceptionCode.NOT_FOUND],
  [HttpStatus.INTERNAL_SERVER_ERROR]: [CommonExceptionCode.INTERNAL],
}) {}
