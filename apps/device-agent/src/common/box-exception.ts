/** Why the box cannot go on; each maps to a process exit code once, in main.ts. */
export enum BoxExceptionCode {
  /** First boot without AGENTBOX_FLEET_URL. */
  FLEET_URL_MISSING = 'FLEET_URL_MISSING',
  /** First boot without AGENTBOX_CLAIM_TOKEN. */
  CLAIM_TOKEN_MISSING = 'CLAIM_TOKEN_MISSING',
  /** The fleet service refused the claim token (401/403). */
  CLAIM_REJECTED = 'CLAIM_REJECTED',
  /** The fleet service refused the provisioning request itself (other 4xx). */
  PROVISION_REFUSED = 'PROVISION_REFUSED',
  /** The state directory cannot be used. */
  STATE_DIR_UNUSABLE = 'STATE_DIR_UNUSABLE',
  /** credentials.json is damaged and there is no claim token to enroll again. */
  CREDENTIALS_UNREADABLE = 'CREDENTIALS_UNREADABLE',
}

export class BoxException extends Error {
  override readonly name = 'BoxException';

  constructor(
    readonly code: BoxExceptionCode,
    message: string,
    /** What the operator should do about it. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** sysexits(3) values, so `RestartPreventExitStatus=` in the unit can stop a restart loop that cannot heal. */
export const EXIT_CODES: Record<BoxExceptionCode, number> = {
  [BoxExceptionCode.FLEET_URL_MISSING]: 78, // EX_CONFIG
  [BoxExceptionCode.CLAIM_TOKEN_MISSING]: 78, // EX_CONFIG
  [BoxExceptionCode.CLAIM_REJECTED]: 77, // EX_NOPERM
  [BoxExceptionCode.PROVISION_REFUSED]: 76, // EX_PROTOCOL
  [BoxExceptionCode.STATE_DIR_UNUSABLE]: 73, // EX_CANTCREAT
  [BoxExceptionCode.CREDENTIALS_UNREADABLE]: 78, // EX_CONFIG
};
