import { Logger } from '@nestjs/common';

/** Successful broker logins are remembered this long, so reconnect storms do not each pay for argon2. */
const CREDENTIAL_CACHE_TTL_MS = 5 * 60_000;
const CREDENTIAL_CACHE_MAX = 50_000;
/** A wrong secret retried (a misconfigured box in a reconnect loop) is refused without argon2 for this long. */
const REJECTED_CACHE_TTL_MS = 30_000;
const REJECTED_CACHE_MAX = 10_000;

/**
 * Recent outcomes of checking a box's secret, keyed by sha256 of the secret: accepted ones for a few
 * minutes, refused ones for a few seconds. Bounded: a full cache is cleared rather than grown.
 */
export class CredentialCache {
  private readonly logger = new Logger('CredentialCache');
  /** deviceId -> (sha256(secret) -> expiry epoch ms). */
  private readonly verified = new Map<string, Map<string, number>>();
  private verifiedCount = 0;
  /** `${deviceId}:${sha256(secret)}` -> expiry epoch ms of a recent failed verification. */
  private readonly rejected = new Map<string, number>();

  /** true or false when a recent check decided it, undefined when the secret must be checked. */
  lookup(deviceId: string, key: string, now: number): boolean | undefined {
    const expiry = this.verified.get(deviceId)?.get(key);
    if (expiry !== undefined && expiry > now) return true;
    const rejectedUntil = this.rejected.get(`${deviceId}:${key}`);
    if (rejectedUntil !== undefined && rejectedUntil > now) return false;
    return undefined;
  }

  record(deviceId: string, key: string, ok: boolean, now: number): void {
    if (ok) {
      this.remember(deviceId, key, now + CREDENTIAL_CACHE_TTL_MS);
    } else {
      if (this.rejected.size >= REJECTED_CACHE_MAX) this.rejected.clear();
      this.rejected.set(`${deviceId}:${key}`, now + REJECTED_CACHE_TTL_MS);
    }
  }

  /** Forgets the box's outcomes: its secret changed or it is gone. */
  forget(deviceId: string): void {
    const perDevice = this.verified.get(deviceId);
    if (perDevice) this.verifiedCount -= perDevice.size;
    this.verified.delete(deviceId);
    // A new secret starts with a clean slate (rare: enrolment and deletion only).
    for (const key of this.rejected.keys()) {
      if (key.startsWith(`${deviceId}:`)) this.rejected.delete(key);
    }
  }

  private remember(deviceId: string, key: string, expiry: number): void {
    if (this.verifiedCount >= CREDENTIAL_CACHE_MAX) {
      this.verified.clear();
      this.verifiedCount = 0;
      this.logger.warn('credential cache full; cleared');
    }
    let perDevice = this.verified.get(deviceId);
    if (!perDevice) {
      perDevice = new Map();
      this.verified.set(deviceId, perDevice);
    }
    if (!perDevice.has(key)) this.verifiedCount += 1;
    perDevice.set(key, expiry);
  }
}
