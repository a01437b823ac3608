import { describe, expect, it } from 'vitest';
import { DAY, keys, NOW, signedRoot } from '../test/trust-fixtures.js';
import type { KeyPair } from './keys.js';
import { verifyRoot, verifyRootChain, verifyRootUpdate } from './root-metadata.js';

const [old1, old2, new1, new2, release] = keys(5) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair];
const clock = { now: NOW, slackMs: 600_000 };
const v1 = signedRoot({
  rootKeys: [old1, old2],
  rootThreshold: 2,
  releaseKeys: [release],
  signers: [old1, old2],
});

describe('verifyRoot', () => {
  it('accepts a root signed by a threshold of its own root keys', () => {
    expect(verifyRoot(v1, clock)).toMatchObject({ ok: true });
  });

  it('refuses one signed below its threshold', () => {
    const sut = signedRoot({
      rootKeys: [old1, old2],
      rootThreshold: 2,
      releaseKeys: [release],
      signers: [old1],
    });
    expect(verifyRoot(sut, clock)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses an expired root only once the clock slack has passed', () => {
    const sut = signedRoot({
      rootKeys: [old1],
      releaseKeys: [release],
      signers: [old1],
      expires: NOW - 60_000,
    });
    expect(verifyRoot(sut, clock).ok).toBe(true);
    expect(verifyRoot(sut, { now: NOW, slackMs: 0 })).toMatchObject({
      ok: false,
      reason: 'metadata-expired',
    });
    expect(verifyRoot(sut, { now: NOW + 600_000, slackMs: 600_000 })).toMatchObject({
      ok: false,
      reason: 'metadata-expired',
    });
  });
});

describe('verifyRootUpdate', () => {
  const rotate = (signers: KeyPair[], version = 2, expires?: number) =>
    signedRoot({
      version,
      rootKeys: [new1, new2],
      rootThreshold: 2,
      releaseKeys: [release],
      signers,
      expires,
    });

  it('accepts version + 1 signed by a threshold of the old root keys and of its own', () => {
    const sut = verifyRootUpdate(v1, rotate([old1, old2, new1, new2]), clock);
    expect(sut).toMatchObject({ ok: true, root: { signed: { version: 2 } } });
  });

  it('refuses a new root not signed by a threshold of the old root keys', () => {
    expect(verifyRootUpdate(v1, rotate([new1, new2]), clock)).toMatchObject({
      ok: false,
      reason: 'unknown-key',
    });
    expect(verifyRootUpdate(v1, rotate([old1, new1, new2]), clock)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses a new root its own keys did not sign', () => {
    const sut = verifyRootUpdate(v1, rotate([old1, old2, new1]), clock);
    expect(sut).toMatchObject({ ok: false, reason: 'bad-signature' });
    if (!sut.ok) expect(sut.detail).toContain('own root keys');
  });

  it('refuses skipping a version, and an older or equal version', () => {
    const skip = verifyRootUpdate(v1, rotate([old1, old2, new1, new2], 3), clock);
    expect(skip).toMatchObject({ ok: false, reason: 'bad-signature' });
    if (!skip.ok) expect(skip.detail).toContain('every root in between');
    expect(verifyRootUpdate(v1, v1, clock)).toMatchObject({ ok: false, reason: 'downgrade' });
  });

  it('refuses an expired new root, with slack', () => {
    const stale = rotate([old1, old2, new1, new2], 2, NOW - 1000);
    expect(verifyRootUpdate(v1, stale, clock).ok).toBe(true);
    expect(verifyRootUpdate(v1, stale, { now: NOW, slackMs: 0 })).toMatchObject({
      reason: 'metadata-expired',
    });
  });

  it('refuses a root whose signed content was changed', () => {
    const sut = rotate([old1, old2, new1, new2]);
    const tampered = { ...sut, signed: { ...sut.signed, expires: new Date(NOW + 9999 * DAY).toISOString() } };
    expect(verifyRootUpdate(v1, tampered, clock)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses malformed metadata with a reason', () => {
    expect(verifyRootUpdate(v1, { signed: {}, signatures: [] }, clock)).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });
});

describe('verifyRootChain', () => {
  const v2 = signedRoot({
    version: 2,
    rootKeys: [new1],
    releaseKeys: [release],
    signers: [old1, old2, new1],
    expires: NOW - 30 * DAY,
  });
  const v3 = signedRoot({ version: 3, rootKeys: [new2], releaseKeys: [release], signers: [new1, new2] });

  it('walks the chain oldest first, letting intermediate roots be expired but not the newest', () => {
    const sut = verifyRootChain(v1, [v1, v2, v3], clock);
    expect(sut).toMatchObject({ ok: true, root: { signed: { version: 3 } } });
    if (sut.ok) expect(sut.accepted.map((root) => root.signed.version)).toEqual([2, 3]);
    expect(verifyRootChain(v1, [v2], clock)).toMatchObject({ ok: false, reason: 'metadata-expired' });
  });

  it('refuses a chain with a gap', () => {
    expect(verifyRootChain(v1, [v3], clock)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses an expired trusted root when nothing newer arrives', () => {
    expect(verifyRootChain(v1, [], { now: NOW + 400 * DAY })).toMatchObject({ reason: 'metadata-expired' });
    expect(verifyRootChain(v1, [], clock)).toMatchObject({ ok: true, accepted: [] });
  });
});
