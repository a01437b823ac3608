import { canonicalJson } from '@agentbox/schemas';
import { describe, expect, it } from 'vitest';
import { keys, manifest } from '../test/trust-fixtures.js';
import type { KeyPair } from './keys.js';
import { signEnvelope, verifySignatures, type PublicKeys } from './envelope.js';

const [a, b, c, outsider] = keys(4) as [KeyPair, KeyPair, KeyPair, KeyPair];
const publicKeys: PublicKeys = Object.fromEntries(
  [a, b, c, outsider].map((key) => [key.keyid, { type: 'ed25519' as const, public: key.publicKey }]),
);
const role = (threshold: number) => ({ keyids: [a.keyid, b.keyid, c.keyid], threshold });

describe('signEnvelope / verifySignatures', () => {
  it('accepts a threshold of distinct role keys', () => {
    const sut = signEnvelope(manifest(), [a.privateKeyPem, b.privateKeyPem]);
    expect(verifySignatures(sut, publicKeys, role(2))).toMatchObject({ ok: true, bad: [], unknown: [] });
    expect(verifySignatures(sut, publicKeys, role(3))).toMatchObject({ ok: false });
  });

  it('counts a key once however often it signs', () => {
    const one = signEnvelope(manifest(), [a.privateKeyPem]);
    const sut = { signed: one.signed, signatures: [...one.signatures, ...one.signatures] };
    expect(verifySignatures(sut, publicKeys, role(2)).ok).toBe(false);
    expect(signEnvelope(manifest(), [a.privateKeyPem, a.privateKeyPem]).signatures).toHaveLength(1);
  });

  it('reports keys outside the role as unknown, even when listed in the keys', () => {
    const sut = signEnvelope(manifest(), [outsider.privateKeyPem]);
    expect(verifySignatures(sut, publicKeys, role(1))).toMatchObject({
      ok: false,
      unknown: [outsider.keyid],
    });
  });

  it('refuses a key listed under an id that is not its hash', () => {
    const sut = signEnvelope(manifest(), [a.privateKeyPem]);
    const swapped: PublicKeys = { [a.keyid]: { type: 'ed25519', public: b.publicKey } };
    expect(verifySignatures(sut, swapped, { keyids: [a.keyid], threshold: 1 }).ok).toBe(false);
  });

  it('refuses the envelope when any byte of the signed JSON changes', () => {
    const sut = signEnvelope(manifest(), [a.privateKeyPem]);
    const text = canonicalJson(sut.signed);
    const oneRole = { keyids: [a.keyid], threshold: 1 };
    let tampered = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      // Flip one bit of a character; keep only mutations that still parse as JSON.
      const mutated = text.slice(0, index) + String.fromCharCode(code ^ 1) + text.slice(index + 1);
      let signed: unknown;
      try {
        signed = JSON.parse(mutated);
      } catch {
        continue;
      }
      if (canonicalJson(signed) === text) continue;
      tampered++;
      expect(verifySignatures({ signed, signatures: sut.signatures }, publicKeys, oneRole).ok).toBe(false);
    }
    expect(tampered).toBeGreaterThan(100);
    expect(verifySignatures(sut, publicKeys, oneRole).ok).toBe(true);
  });

  it('refuses a forged or truncated signature as bad', () => {
    const sut = signEnvelope(manifest(), [a.privateKeyPem]);
    const sig = Buffer.from(sut.signatures[0]!.sig, 'base64');
    sig[5]! ^= 0x40;
    const forged = { signed: sut.signed, signatures: [{ keyid: a.keyid, sig: sig.toString('base64') }] };
    expect(verifySignatures(forged, publicKeys, role(1))).toMatchObject({ ok: false, bad: [a.keyid] });
    const short = { signed: sut.signed, signatures: [{ keyid: a.keyid, sig: 'AAAA' }] };
    expect(verifySignatures(short, publicKeys, role(1)).ok).toBe(false);
  });
});
