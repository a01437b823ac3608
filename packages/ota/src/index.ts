export { OtaError, type OtaErrorCode } from './ota-error.js';
export { generateKeyPair, keyIdOf, publicKeyOfPrivate, type KeyPair } from './keys.js';
export {
  signEnvelope,
  verifySignatures,
  verifySignature,
  type Envelope,
  type PublicKeys,
  type Role,
  type Signature,
  type SignatureCheck,
} from './envelope.js';
export {
  DEFAULT_CLOCK_SLACK_MS,
  type ClockOptions,
  type UpdateReason,
  type Verified,
} from './verification.js';
export {
  createRootMetadata,
  verifyRoot,
  verifyRootChain,
  verifyRootUpdate,
  type RootInput,
} from './root-metadata.js';
export {
  createReleaseManifest,
  verifyRelease,
  type Architecture,
  type VerifyReleaseOptions,
} from './release-manifest.js';
export { compareVersions, isValidVersion } from './versions.js';
export { parseDuration } from './durations.js';
export { sha256File } from './sha256-file.js';
export {
  buildBundle,
  unpackBundle,
  findMonorepoRoot,
  type BuildBundleOptions,
  type BundleInfo,
  type UnpackOptions,
} from './bundle.js';
