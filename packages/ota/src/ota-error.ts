/** A refusal or failure with a stable code and a hint that says how to fix it. */
export class OtaError extends Error {
  constructor(
    readonly code: OtaErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(`${message} (${hint})`);
    this.name = 'OtaError';
  }
}

export type OtaErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_METADATA'
  | 'ROOT_VERSION'
  | 'ROOT_SIGNATURE'
  | 'ROOT_EXPIRED'
  | 'BUNDLE_BUILD'
  | 'BUNDLE_UNSAFE'
  | 'BUNDLE_UNPACK'
  /** The fleet service refused the upload's credentials (unknown, revoked, expired, or too low a role). */
  | 'UPLOAD_REFUSED'
  | 'USAGE';
