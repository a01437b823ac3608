/**
 * Base of every feature's domain exception: a stable machine-readable `code` (a string enum member
 * of the feature) and a human message. Transports map the code once (HTTP: AllExceptionsFilter).
 */
export abstract class DomainException<C extends string = string> extends Error {
  protected constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
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

export class CommonException extends DomainException<CommonExceptionCode> {
  constructor(code: CommonExceptionCode, message: string) {
    super(code, message);
  }
}
