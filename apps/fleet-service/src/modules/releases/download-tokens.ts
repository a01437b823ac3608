import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const PREFIX = 'dl1';

export interface DownloadGrant {
  deviceId: string;
  releaseId: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export type DownloadTokenCheck =
  { ok: true; grant: DownloadGrant } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * Per-box download tokens: `dl1.<payload>.<hmac>`, the payload naming one box and one release. Stateless,
 * so every replica sharing the secrets key accepts what another issued; the HMAC key is derived from the
 * secrets key, so the token key never has to be configured on its own.
 */
export class DownloadTokens {
  private readonly key: Buffer;

  constructor(
    secretsKey: Buffer,
    private readonly ttlSec: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), 'agentbox-download-token-v1', 32));
  }

  /** A token letting `deviceId` fetch the bundle of `releaseId` until the configured TTL passes. */
  issue(deviceId: string, releaseId: string, ttlSec = this.ttlSec): string {
    const grant: DownloadGrant = { deviceId, releaseId, exp: Math.floor(this.clock() / 1_000) + ttlSec };
    const payload = Buffer.from(JSON.stringify(grant), 'utf8').toString('base64url');
    return `${PREFIX}.${payload}.${this.sign(payload)}`;
  }

  /** True when `token` looks like a download token (rather than a user's JWT). */
  static looksLike(token: string): boolean {
    return token.startsWith(`${PREFIX}.`);
  }

  verify(token: string): DownloadTokenCheck {
    const [prefix, payload, mac, ...rest] = token.split('.');
    if (prefix !== PREFIX || !payload || !mac || rest.length > 0) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.sign(payload), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'invalid' };
    }
    let grant: DownloadGrant;
    try {
      grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DownloadGrant;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (
      typeof grant.deviceId !== 'string' ||
      typeof grant.releaseId !== 'string' ||
      !Number.isFinite(grant.exp)
    ) {
      return { ok: false, reason: 'invalid' };
    }
    if (grant.exp * 1_000 <= this.clock()) return { ok: false, reason: 'expired' };
    return { ok: true, grant };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(`${PREFIX}.${payload}`).digest('base64url');
  }
}
