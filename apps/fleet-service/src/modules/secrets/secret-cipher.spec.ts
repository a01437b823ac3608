import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretCipher, SecretCipherError, keyId } from './secret-cipher.js';

describe('SecretCipher', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('round-trips a secret bound to its row, never storing the plain text', () => {
    const sut = new SecretCipher(newKey);
    const stored = sut.encrypt('sk-plain-secret', 'provider:a:apiKey');
    expect(stored).toMatch(new RegExp(`^v1:${keyId(newKey)}:`));
    expect(stored).not.toContain('sk-plain-secret');
    expect(sut.encrypt('sk-plain-secret', 'provider:a:apiKey')).not.toBe(stored);
    expect(sut.decrypt(stored, 'provider:a:apiKey')).toBe('sk-plain-secret');
    expect(() => sut.decrypt(stored, 'provider:b:apiKey')).toThrow(SecretCipherError);
  });

  it('refuses altered ciphertexts', () => {
    const sut = new SecretCipher(newKey);
    const parts = sut.encrypt('sk-plain-secret', 'aad').split(':');
    const ct = Buffer.from(parts[3]!, 'base64');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64');
    expect(() => sut.decrypt(parts.join(':'), 'aad')).toThrow(/does not open/);
    expect(() => sut.decrypt('not-a-secret', 'aad')).toThrow(/not a stored secret/);
  });

  it('reads values of a previous key, flags them stale, and names a missing key', () => {
    const before = new SecretCipher(oldKey).encrypt('sk-old', 'aad');
    const sut = new SecretCipher(newKey, [oldKey]);
    expect(sut.decrypt(before, 'aad')).toBe('sk-old');
    expect(sut.isStale(before)).toBe(true);
    expect(sut.isStale(sut.encrypt('sk-old', 'aad'))).toBe(false);
    expect(() => new SecretCipher(newKey).decrypt(before, 'aad')).toThrow(/AGENTBOX_SECRETS_KEY_PREVIOUS/);
    expect(() => new SecretCipher(randomBytes(16))).toThrow(/32 bytes/);
  });
});
