import { createHash } from 'node:crypto';
import { generateKeyPair, signEnvelope, type KeyPair } from '@agentbox/ota';
import type { ReleaseManifest, RootMetadata } from '@agentbox/schemas';

const DAY_MS = 86_400_000;

/** An Ed25519 key made for one test run, as the release CLI makes them. */
export const signingKey = (): KeyPair => generateKeyPair();

/** `signed` in an envelope signed by each of `keys` (docs/ota-security.md). */
export function envelope<T>(signed: T, keys: KeyPair[]) {
  return signEnvelope(
    signed,
    keys.map((key) => key.privateKeyPem),
  );
}

/** Root metadata valid for a year, trusting `rootKeys` for roots and `releaseKeys` for releases (threshold 1). */
export function rootMetadata(version: number, rootKeys: KeyPair[], releaseKeys: KeyPair[]): RootMetadata {
  return {
    type: 'root',
    version,
    expires: new Date(Date.now() + 365 * DAY_MS).toISOString(),
    keys: Object.fromEntries(
      [...rootKeys, ...releaseKeys].map((key) => [key.keyid, { type: 'ed25519', public: key.publicKey }]),
    ),
    roles: {
      root: { keyids: rootKeys.map((key) => key.keyid), threshold: 1 },
      release: { keyids: releaseKeys.map((key) => key.keyid), threshold: 1 },
    },
  };
}

/** A stable release of `bundle` for x64 and arm64, valid for 30 days, unless `overrides` say otherwise. */
export function releaseManifest(
  version: string,
  bundle: Buffer,
  overrides: Partial<ReleaseManifest> = {},
): ReleaseManifest {
  return {
    type: 'release',
    version,
    channel: 'stable',
    createdAt: new Date().toISOString(),
    expires: new Date(Date.now() + 30 * DAY_MS).toISOString(),
    artifact: {
      name: `agentbox-device-agent-${version}.tar.gz`,
      size: bundle.length,
      sha256: createHash('sha256').update(bundle).digest('hex'),
    },
    compatibility: { arch: ['x64', 'arm64'] },
    notes: `Release ${version}`,
    rollbackTarget: false,
    ...overrides,
  };
}
