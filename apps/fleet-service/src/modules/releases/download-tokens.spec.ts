import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DownloadTokens } from './download-tokens.js';

describe('DownloadTokens', () => {
  const key = randomBytes(32);
  let now = 1_800_000_000_000;
  const sut = new DownloadTokens(key, 60, () => now);

  it('accepts its own token and names the box and release', () => {
    const token = sut.issue('box-1', 'release-1');
    expect(DownloadTokens.looksLike(token)).toBe(true);
    expect(sut.verify(token)).toEqual({
      ok: true,
      grant: { deviceId: 'box-1', releaseId: 'release-1', exp: now / 1_000 + 60 },
    });
  });

  it('refuses a token once it expired', () => {
    const token = sut.issue('box-1', 'release-1');
    now += 60_000;
    expect(sut.verify(token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses an edited payload, a foreign key and garbage', () => {
    const token = sut.issue('box-1', 'release-1');
    const [prefix, , mac] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ deviceId: 'box-2', releaseId: 'release-1', exp: 9e9 }),
    ).toString('base64url');
    expect(sut.verify(`${prefix}.${forged}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    expect(new DownloadTokens(randomBytes(32), 60, () => now).verify(token)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(sut.verify('dl1.x')).toEqual({ ok: false, reason: 'invalid' });
    expect(sut.verify('eyJhbGciOi.x.y')).toEqual({ ok: false, reason: 'invalid' });
  });
});
