import { HttpStatus } from '@nestjs/common';

/**
 * Base of every feature's domain exception: a stable machine-readable `code` (one of the feature's
 * codes), a human message, and the HTTP status the code maps to (AllExceptionsFilter answers
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

/** The codes of a feature's exception class, e.g. `ExceptionCode<typeof RunException>`. */
export type ExceptionCode<E extends { readonly statuses: object }> = keyof E['statuses'] & string;

/**
 * The base class of a feature's exception, declared once as a table of its codes (the `code` of the
 * HTTP error body, so they never change) and the HTTP status each answers with:
 * `export class RunException extends domainException({ RUN_NOT_FOUND: HttpStatus.NOT_FOUND }) {}`
 */
export function domainException<C extends string>(
  statuses: Readonly<Record<C, HttpStatus>>,
): DomainExceptionClass<C> {
  return class extends DomainException<C> {
    static readonly statuses: Readonly<Record<C, HttpStatus>> = statuses;

    constructor(code: C, message: string) {
      super(code, message, statuses[code]);
    }
  };
}

/** Codes not owned by one feature: request shape, routing, authentication plumbing. */
export class CommonException extends domainException({
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  MALFORMED_BODY: HttpStatus.BAD_REQUEST,
  /** A JSON body nested deeper than MAX_JSON_BODY_DEPTH (common/http/json-body.ts). */
  BODY_TOO_DEEP: HttpStatus.BAD_REQUEST,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  UNSUPPORTED_MEDIA_TYPE: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  INTERNAL: HttpStatus.INTERNAL_SERVER_ERROR,
}) {}

export type CommonExceptionCode = ExceptionCode<typeof CommonException>;
