import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** `X-AgentBox-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<raw body>` keyed by the hook's secret. */
export const SIGNATURE_PREFIX = 'sha256=';

export function hookSignature(secret: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
}

/** Constant-time: whether `header` (`sha256=<hex>`) is the signature of `timestamp` and `body`. */
export function signatureMatches(secret: string, timestamp: string, body: Buffer, header: string): boolean {
  if (!header.startsWith(SIGNATURE_PREFIX)) return false;
  const given = header.slice(SIGNATURE_PREFIX.length).trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(
    Buffer.from(given, 'hex'),
    Buffer.from(hookSignature(secret, timestamp, body), 'hex'),
  );
}

/** Constant-time comparison of a presented secret with the hook's (digests, so lengths never leak). */
export function secretMatches(secret: string, presented: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(secret), digest(presented));
}
