import { describe, expect, it } from 'vitest';
import { hookSignature, secretMatches, signatureMatches } from './hook-signature.js';

describe('hook signatures', () => {
  const body = Buffer.from('{"ticket":42}');

  it('accepts the HMAC of timestamp.body and nothing else', () => {
    const signature = `sha256=${hookSignature('abh_secret', '1700000000', body)}`;
    expect(signatureMatches('abh_secret', '1700000000', body, signature)).toBe(true);
    expect(
      signatureMatches('abh_secret', '1700000000', body, signature.toUpperCase().replace('SHA256', 'sha256')),
    ).toBe(true);
    expect(signatureMatches('abh_other', '1700000000', body, signature)).toBe(false);
    expect(signatureMatches('abh_secret', '1700000001', body, signature)).toBe(false);
    expect(signatureMatches('abh_secret', '1700000000', Buffer.from('{"ticket":43}'), signature)).toBe(false);
    expect(signatureMatches('abh_secret', '1700000000', body, signature.slice('sha256='.length))).toBe(false);
    expect(signatureMatches('abh_secret', '1700000000', body, 'sha256=abc')).toBe(false);
  });

  it('compares secrets whatever their lengths', () => {
    expect(secretMatches('abh_secret', 'abh_secret')).toBe(true);
    expect(secretMatches('abh_secret', 'abh_secre')).toBe(false);
    expect(secretMatches('abh_secret', '')).toBe(false);
  });
});
