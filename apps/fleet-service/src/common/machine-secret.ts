import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Box secrets are 256 random bits made by the fleet service at enrolment, not passwords a person chose:
 * nothing is gained by a slow hash, and every MQTT connect pays for it (argon2id: ~40 ms of CPU, which a
 * reconnect storm of 10,000 boxes turns into minutes). They are stored as HMAC-SHA256 keyed by a random
 * per-box salt, `hmac-sha256$<salt>$<mac>` (base64url), and compared in constant time. People's passwords
 * stay on argon2id (`secrets.ts`).
 */
const SCHEME = 'hmac-sha256';
const SALT_BYTES = 16;

export function hashMachineSecret(secret: string): string {
  const salt = randomBytes(SALT_BYTES);
  return `${SCHEME}$${salt.toString('base64url')}$${mac(salt, secret).toString('base64url')}`;
}

/** Whether `hash` is in this scheme (else it is an older argon2id hash, see DevicesService). */
export function isMachineSecretHash(hash: string): boolean {
  return hash.startsWith(`${SCHEME}$`);
}

export function machineSecretMatches(hash: string, secret: string): boolean {
  const [scheme, salt, expected, ...rest] = hash.split('$');
  if (scheme !== SCHEME || salt === undefined || expected === undefined || rest.length > 0) return false;
  const want = Buffer.from(expected, 'base64url');
  const got = mac(Buffer.from(salt, 'base64url'), secret);
  return want.length === got.length && timingSafeEqual(want, got);
}

function mac(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}
