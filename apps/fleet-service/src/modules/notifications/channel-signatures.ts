import { createHmac } from 'node:crypto';

/**
 * The signature schemes of the receivers (docs/operations.md, "Alert notifications"), each a pure
 * function of its inputs so tests check them against vectors computed independently.
 */

/** Generic webhook: `sha256=` + hex HMAC-SHA256 of the exact body bytes, keyed by the channel secret. */
export function webhookSignature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/**
 * DingTalk custom robot, security setting "加签": string to sign = timestamp (ms) + "\n" + secret,
 * HMAC-SHA256 keyed by the secret, base64; sent URL-encoded as the `sign` query parameter beside `timestamp`.
 */
export function dingtalkSignature(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The robot URL with DingTalk's `timestamp` and `sign` query parameters appended. */
export function dingtalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestampMs));
  signed.searchParams.set('sign', dingtalkSignature(secret, timestampMs));
  return signed.toString();
}

/**
 * Feishu/Lark custom bot, "签名校验": the key is timestamp (seconds) + "\n" + secret and the message is
 * empty; base64 of the HMAC-SHA256, sent as `sign` in the body beside `timestamp`.
 */
export function feishuSignature(secret: string, timestampSec: number): string {
  return createHmac('sha256', `${timestampSec}\n${secret}`).update('').digest('base64');
}
