import { HttpStatus } from '@nestjs/common';
import { domainException, type ExceptionCode } from '../../common/errors/domain-exception.js';

export class ReleaseException extends domainException({
  RELEASE_NOT_FOUND: HttpStatus.NOT_FOUND,
  RELEASE_EXISTS: HttpStatus.CONFLICT,
  /** A rollout uses the release. */
  RELEASE_IN_USE: HttpStatus.CONFLICT,
  /** No trusted root yet: set AGENTBOX_OTA_ROOT_FILE or PUT /api/v1/ota/root. */
  OTA_ROOT_MISSING: HttpStatus.CONFLICT,
  RELEASE_BAD_SIGNATURE: HttpStatus.BAD_REQUEST,
  RELEASE_UNKNOWN_KEY: HttpStatus.BAD_REQUEST,
  RELEASE_KEY_REVOKED: HttpStatus.BAD_REQUEST,
  RELEASE_METADATA_EXPIRED: HttpStatus.BAD_REQUEST,
  /** The manifest announces a bundle larger than AGENTBOX_ARTIFACT_MAX_BYTES. */
  ARTIFACT_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  ARTIFACT_SIZE_MISMATCH: HttpStatus.BAD_REQUEST,
  ARTIFACT_HASH_MISMATCH: HttpStatus.BAD_REQUEST,
  /** The bundle of this release was uploaded already. */
  ARTIFACT_PRESENT: HttpStatus.CONFLICT,
  /** The bundle was not uploaded yet. */
  ARTIFACT_MISSING: HttpStatus.CONFLICT,
  DOWNLOAD_TOKEN_INVALID: HttpStatus.UNAUTHORIZED,
  DOWNLOAD_TOKEN_EXPIRED: HttpStatus.UNAUTHORIZED,
  /** The token is valid but for another box or release. */
  DOWNLOAD_TOKEN_MISMATCH: HttpStatus.FORBIDDEN,
}) {}

export type ReleaseExceptionCode = ExceptionCode<typeof ReleaseException>;

export class OtaRootException extends domainException({
  /** The root does not verify (signatures, expiry) against the trusted one or, the first time, itself. */
  OTA_ROOT_REJECTED: HttpStatus.BAD_REQUEST,
  /** Not the version after the trusted one. */
  OTA_ROOT_NOT_NEXT: HttpStatus.CONFLICT,
}) {}

export type OtaRootExceptionCode = ExceptionCode<typeof OtaRootException>;
