import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, keyIdOf, publicKeyOfPrivate } from './keys.js';
import { OtaError } from './ota-error.js';

describe('keys', () => {
  it('generates Ed25519 pairs whose id is the SHA-256 of the raw public key', () => {
    const sut = generateKeyPair();
    const raw = Buffer.from(sut.publicKey, 'base64');
    expect(raw).toHaveLength(32);
    expect(sut.keyid).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(keyIdOf(sut.publicKey)).toBe(sut.keyid);
    expect(sut.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(publicKeyOfPrivate(sut.privateKeyPem)).toEqual({ keyid: sut.keyid, publicKey: sut.publicKey });
    expect(generateKeyPair().keyid).not.toBe(sut.keyid);
  });

  it('refuses public keys that are not 32 raw bytes, and private keys that are not Ed25519 PEM', () => {
    expect(() => keyIdOf(Buffer.alloc(31).toString('base64'))).toThrow(OtaError);
    expect(() => publicKeyOfPrivate('not a key')).toThrow(/keygen/);
  });
});
