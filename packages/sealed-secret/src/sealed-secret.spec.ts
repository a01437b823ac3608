import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealedSecretSchema } from '@agentbox/schemas';
import { openSealedSecret } from '@agentbox/test-support';
import { isValidBoxPublicKey, sealSecret } from './sealed-secret.js';

const spki = (key: KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64');

describe('sealSecret', () => {
  it('seals a key only the box holding the private half can open', () => {
    const box = generateKeyPairSync('x25519');
    const sut = sealSecret('sk-live-0123456789', spki(box.publicKey));
    expect(SealedSecretSchema.parse(sut)).toEqual(sut);
    expect(Buffer.from(sut.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sut.tag, 'base64')).toHaveLength(16);
    expect(openSealedSecret(sut, box.privateKey)).toBe('sk-live-0123456789');
    // A fresh ephemeral key each time: the same secret never looks the same twice.
    expect(sealSecret('sk-live-0123456789', spki(box.publicKey)).ct).not.toBe(sut.ct);
    expect(() => openSealedSecret(sut, generateKeyPairSync('x25519').privateKey)).toThrow();
  });

  it('accepts only X25519 public keys as a box secrets key', () => {
    expect(isValidBoxPublicKey(spki(generateKeyPairSync('x25519').publicKey))).toBe(true);
    expect(isValidBoxPublicKey(spki(generateKeyPairSync('ed25519').publicKey))).toBe(false);
    expect(isValidBoxPublicKey('bm90IGEga2V5')).toBe(false);
    expect(() => sealSecret('x', spki(generateKeyPairSync('ed25519').publicKey))).toThrow(/X25519/);
  });
});
