import type { ReleaseManifest, SignedRelease, SignedRoot } from '@agentbox/schemas';
import { generateKeyPair, type KeyPair } from '../src/keys.js';
import { signEnvelope } from '../src/envelope.js';
import { createRootMetadata } from '../src/root-metadata.js';
import { createReleaseManifest } from '../src/release-manifest.js';

export const NOW = Date.parse('2030-01-01T00:00:00Z');
export const DAY = 86_400_000;

export function keys(count: number): KeyPair[] {
  return Array.from({ length: count }, () => generateKeyPair());
}

export function signedRoot(options: {
  version?: number;
  rootKeys: KeyPair[];
  releaseKeys: KeyPair[];
  signers: KeyPair[];
  rootThreshold?: number;
  releaseThreshold?: number;
  expires?: number;
}): SignedRoot {
  const root = createRootMetadata({
    version: options.version ?? 1,
    expires: new Date(options.expires ?? NOW + 365 * DAY).toISOString(),
    rootKeys: options.rootKeys.map((key) => key.publicKey),
    releaseKeys: options.releaseKeys.map((key) => key.publicKey),
    rootThreshold: options.rootThreshold,
    releaseThreshold: options.releaseThreshold,
  });
  return signEnvelope(
    root,
    options.signers.map((key) => key.privateKeyPem),
  );
}

export function manifest(overrides: Partial<ReleaseManifest> = {}): ReleaseManifest {
  return createReleaseManifest({
    type: 'release',
    version: '1.5.0',
    channel: 'stable',
    createdAt: new Date(NOW - DAY).toISOString(),
    expires: new Date(NOW + 180 * DAY).toISOString(),
    artifact: { name: 'agentbox-device-agent-1.5.0.tar.gz', size: 1234, sha256: 'a'.repeat(64) },
    compatibility: { arch: ['x64', 'arm64'] },
    notes: 'Faster reconnects.',
    rollbackTarget: false,
    ...overrides,
  });
}

export function signedRelease(signers: KeyPair[], overrides: Partial<ReleaseManifest> = {}): SignedRelease {
  return signEnvelope(
    manifest(overrides),
    signers.map((key) => key.privateKeyPem),
  );
}
