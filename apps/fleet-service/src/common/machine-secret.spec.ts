import { describe, expect, it } from 'vitest';
import { hashMachineSecret, isMachineSecretHash, machineSecretMatches } from './machine-secret.js';

describe('machine secret hash', () => {
  it('matches the secret it was made from and nothing else', () => {
    const hash = hashMachineSecret('s3cret-of-a-box');
    expect(isMachineSecretHash(hash)).toBe(true);
    expect(hash).not.toContain('s3cret-of-a-box');
    expect(machineSecretMatches(hash, 's3cret-of-a-box')).toBe(true);
    expect(machineSecretMatches(hash, 's3cret-of-a-boy')).toBe(false);
    expect(machineSecretMatches(hash, '')).toBe(false);
  });

  it('salts every hash, so one secret never hashes twice the same way', () => {
    expect(hashMachineSecret('same')).not.toBe(hashMachineSecret('same'));
  });

  it('never matches a malformed or foreign hash', () => {
    const [scheme, salt] = hashMachineSecret('x').split('$');
    for (const hash of [
      '',
      'hmac-sha256$',
      `${scheme}$${salt}$`,
      `${scheme}$${salt}$AAAA$extra`,
      '$argon2id$v=19$m=1$a$b',
    ])
      expect(machineSecretMatches(hash, 'x')).toBe(false);
    expect(isMachineSecretHash('$argon2id$v=19$m=19456,t=2,p=1$abc$def')).toBe(false);
  });
});
