import { describe, expect, it } from 'vitest';
import { DAY, keys, NOW, signedRelease, signedRoot } from '../test/trust-fixtures.js';
import type { KeyPair } from './keys.js';
import { verifyRelease } from './release-manifest.js';
import { verifyRootUpdate } from './root-metadata.js';

const [rootKey, releaseA, releaseB, outsider, releaseC] = keys(5) as [
  KeyPair,
  KeyPair,
  KeyPair,
  KeyPair,
  KeyPair,
];
const root = signedRoot({ rootKeys: [rootKey], releaseKeys: [releaseA, releaseB], signers: [rootKey] });
const box = { now: NOW, slackMs: 600_000, currentVersion: '1.4.2', arch: 'arm64' };

describe('verifyRelease', () => {
  it('accepts a newer release signed by a release key, returning the manifest', () => {
    const sut = verifyRelease(signedRelease([releaseA]), root, box);
    expect(sut).toMatchObject({ ok: true, manifest: { version: '1.5.0', notes: 'Faster reconnects.' } });
  });

  it('refuses a manifest changed after signing', () => {
    const release = signedRelease([releaseA]);
    const tampered = {
      ...release,
      signed: { ...release.signed, artifact: { ...release.signed.artifact, sha256: 'b'.repeat(64) } },
    };
    expect(verifyRelease(tampered, root, box)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a signature by a key the root does not list, including a root key', () => {
    expect(verifyRelease(signedRelease([outsider]), root, box)).toMatchObject({ reason: 'unknown-key' });
    expect(verifyRelease(signedRelease([rootKey]), root, box)).toMatchObject({ reason: 'unknown-key' });
  });

  it('enforces the release threshold', () => {
    const two = signedRoot({
      rootKeys: [rootKey],
      releaseKeys: [releaseA, releaseB],
      releaseThreshold: 2,
      signers: [rootKey],
    });
    expect(verifyRelease(signedRelease([releaseA]), two, box)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
    const partly = verifyRelease(signedRelease([releaseA, outsider]), two, box);
    expect(partly).toMatchObject({ ok: false, reason: 'bad-signature' });
    if (!partly.ok) expect(partly.detail).toContain('1 valid signature(s) of 2 required');
    expect(verifyRelease(signedRelease([releaseA, releaseB]), two, box).ok).toBe(true);
  });

  it('reports a key dropped by a rotated root as revoked', () => {
    const rotated = signedRoot({
      version: 2,
      rootKeys: [rootKey],
      releaseKeys: [releaseC],
      signers: [rootKey],
    });
    const step = verifyRootUpdate(root, rotated, box);
    expect(step.ok).toBe(true);
    const sut = verifyRelease(signedRelease([releaseA]), rotated, { ...box, previousRoots: [root] });
    expect(sut).toMatchObject({ ok: false, reason: 'key-revoked' });
    expect(verifyRelease(signedRelease([releaseA]), rotated, box)).toMatchObject({ reason: 'unknown-key' });
    expect(verifyRelease(signedRelease([releaseC]), rotated, { ...box, previousRoots: [root] }).ok).toBe(
      true,
    );
  });

  it('refuses an expired release or root past the clock slack', () => {
    const stale = signedRelease([releaseA], { expires: new Date(NOW - 5 * 60_000).toISOString() });
    expect(verifyRelease(stale, root, box).ok).toBe(true);
    expect(verifyRelease(stale, root, { ...box, slackMs: 0 })).toMatchObject({ reason: 'metadata-expired' });
    expect(verifyRelease(stale, root, { ...box, now: NOW + 5 * 60_001 })).toMatchObject({
      reason: 'metadata-expired',
    });
    const late = { ...box, now: NOW + 366 * DAY };
    const fresh = signedRelease([releaseA], { expires: new Date(NOW + 999 * DAY).toISOString() });
    const sut = verifyRelease(fresh, root, late);
    expect(sut).toMatchObject({ ok: false, reason: 'metadata-expired' });
    if (!sut.ok) expect(sut.detail).toContain('root v1');
  });

  it('refuses a downgrade or the same version unless signed as a rollback target', () => {
    expect(verifyRelease(signedRelease([releaseA], { version: '1.4.1' }), root, box)).toMatchObject({
      reason: 'downgrade',
    });
    expect(verifyRelease(signedRelease([releaseA], { version: '1.4.2' }), root, box)).toMatchObject({
      reason: 'downgrade',
    });
    expect(
      verifyRelease(signedRelease([releaseA], { version: '1.5.0-rc.1' }), root, {
        ...box,
        currentVersion: '1.5.0',
      }),
    ).toMatchObject({ reason: 'downgrade' });
    const rollback = signedRelease([releaseA], { version: '1.4.1', rollbackTarget: true });
    expect(verifyRelease(rollback, root, box)).toMatchObject({
      ok: true,
      manifest: { rollbackTarget: true },
    });
  });

  it('refuses another architecture', () => {
    const sut = verifyRelease(signedRelease([releaseA], { compatibility: { arch: ['x64'] } }), root, box);
    expect(sut).toMatchObject({ ok: false, reason: 'incompatible-arch' });
  });

  it('refuses a box older than minCurrentVersion', () => {
    const release = signedRelease([releaseA], {
      compatibility: { arch: ['arm64'], minCurrentVersion: '1.4.3' },
    });
    expect(verifyRelease(release, root, box)).toMatchObject({ reason: 'version-too-old' });
    expect(verifyRelease(release, root, { ...box, currentVersion: '1.4.3' }).ok).toBe(true);
  });

  it('skips the box checks when no current version or arch is given (the fleet service)', () => {
    const sut = verifyRelease(signedRelease([releaseA], { version: '0.0.1' }), root, { now: NOW });
    expect(sut.ok).toBe(true);
  });

  it('refuses malformed input with a reason', () => {
    expect(verifyRelease({ nope: true }, root, box)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });
});
