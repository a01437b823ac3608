import { HttpStatus } from '@nestjs/common';
import { domainException } from '../../common/errors/domain-exception.js';

export enum ReleaseExceptionCode {
  NOT_FOUND = 'RELEASE_NOT_FOUND',
  EXISTS = 'RELEASE_EXISTS',
  /** A rollout uses the release. */
  IN_USE = 'RELEASE_IN_USE',
  /** No trusted root yet: set AGENTBOX_OTA_ROOT_FILE or PUT /api/v1/ota/root. */
  NO_TRUSTED_ROOT = 'OTA_ROOT_MISSING',
  BAD_SIGNATURE = 'RELEASE_BAD_SIGNATURE',
  UNKNOWN_KEY = 'RELEASE_UNKNOWN_KEY',
  KEY_REVOKED = 'RELEASE_KEY_REVOKED',
  METADATA_EXPIRED = 'RELEASE_METADATA_EXPIRED',
  /** The manifest announces a bundle larger than AGENTBOX_ARTIFACT_MAX_BYTES. */
  ARTIFACT_TOO_LARGE = 'ARTIFACT_TOO_LARGE',
  ARTIFACT_SIZE_MISMATCH = 'ARTIFACT_SIZE_MISMATCH',
  ARTIFACT_HASH_MISMATCH = 'ARTIFACT_HASH_MISMATCH',
  /** The bundle of this release was uploaded already. */
  ARTIFACT_PRESENT = 'ARTIFACT_PRESENT',
  /** The bundle was not uploaded yet. */
  ARTIFACT_MISSING = 'ARTIFACT_MISSING',
  DOWNLOAD_TOKEN_INVALID = 'DOWNLOAD_TOKEN_INVALID',
  DOWNLOAD_TOKEN_EXPIRED = 'DOWNLOAD_TOKEN_EXPIRED',
  /** The token is valid but for another box or release. */
  DOWNLOAD_TOKEN_MISMATCH = 'DOWNLOAD_TOKEN_MISMATCH',
}

export enum OtaRootExceptionCode {
  /** The root does not verify (signatures, expiry) against the trusted one or, the first time, itself. */
  REJECTED = 'OTA_ROOT_REJECTED',
  /** Not the version after the trusted one. */
  NOT_NEXT = 'OTA_ROOT_NOT_NEXT',
}

export class ReleaseException extends domainException(ReleaseExceptionCode, {
  [HttpStatus.NOT_FOUND]: [ReleaseExceptionCode.NOT_FOUND],
  [HttpStatus.CONFLICT]: [
    ReleaseExceptionCode.EXISTS,
    ReleaseExceptionCode.IN_USE,
    ReleaseExceptionCode.NO_TRUSTED_ROOT,
    ReleaseExceptionCode.ARTIFACT_PRESENT,
    ReleaseExceptionCode.ARTIFACT_MISSING,
  ],
  [HttpStatus.BAD_REQUEST]: [
    ReleaseExceptionCode.BAD_SIGNATURE,
    ReleaseExceptionCode.UNKNOWN_KEY,
    ReleaseExceptionCode.KEY_REVOKED,
    ReleaseExceptionCode.METADATA_EXPIRED,
    ReleaseExceptionCode.ARTIFACT_SIZE_MISMATCH,
    ReleaseExceptionCode.ARTIFACT_HASH_MISMATCH,
  ],
  [HttpStatus.PAYLOAD_TOO_LARGE]: [ReleaseExceptionCode.ARTIFACT_TOO_LARGE],
  [HttpStatus.UNAUTHORIZED]: [
    ReleaseExceptionCode.DOWNLOAD_TOKEN_INVALID,
    ReleaseExceptionCode.DOWNLOAD_TOKEN_EXPIRED,
  ],
  [HttpStatus.FORBIDDEN]: [ReleaseExceptionCode.DOWNLOAD_TOKEN_MISMATCH],
}) {}

export class OtaRootException extends domainException(OtaRootExceptionCode, {
  [HttpStatus.BAD_REQUEST]: [OtaRootExceptionCode.REJECTED],
  [HttpStatus.CONFLICT]: [OtaRootExceptionCode.NOT_NEXT],
}) {}
