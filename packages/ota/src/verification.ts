import { UPDATE_REASONS } from '@agentbox/schemas';
import type { SignatureCheck } from './envelope.js';

export type UpdateReason = (typeof UPDATE_REASONS)[number];

/** The outcome of a metadata check: the verified document, or a stable reason code and a sentence. */
export type Verified<T> = ({ ok: true } & T) | { ok: false; reason: UpdateReason; detail: string };

/** Default tolerance for a box clock that runs behind or ahead. */
export const DEFAULT_CLOCK_SLACK_MS = 10 * 60_000;

export interface ClockOptions {
  /** Milliseconds since the epoch; defaults to Date.now(). */
  now?: number;
  /** Metadata stays acceptable this long past its expiry; defaults to 10 minutes. */
  slackMs?: number;
}

export function expiryProblem(what: string, expires: string, options: ClockOptions): string | undefined {
  const now = options.now ?? Date.now();
  const slackMs = options.slackMs ?? DEFAULT_CLOCK_SLACK_MS;
  const at = Date.parse(expires);
  if (Number.isNaN(at)) return `${what} has an unreadable expiry "${expires}"`;
  if (now - slackMs <= at) return undefined;
  return (
    `${what} expired at ${new Date(at).toISOString()} (now ${new Date(now).toISOString()}, ` +
    `clock slack ${Math.round(slackMs / 1000)}s): sign fresh metadata, or check the box clock (NTP)`
  );
}

export function signatureFailure(
  what: string,
  check: SignatureCheck,
): { reason: UpdateReason; detail: string } {
  const counted = `${check.valid.length} valid signature(s) of ${check.threshold} required`;
  if (check.bad.length > 0) {
    return {
      reason: 'bad-signature',
      detail:
        `${what}: signature by key ${short(check.bad)} does not verify (${counted}); the metadata was ` +
        'changed after signing or the signature is forged: re-sign it, and do not edit a signed file',
    };
  }
  // Signatures by keys outside the role are routine (a rotated root carries the old and the new keys'),
  // so they only explain the refusal when no role key signed at all.
  if (check.unknown.length > 0 && check.valid.length === 0) {
    return {
      reason: 'unknown-key',
      detail:
        `${what}: signed by key ${short(check.unknown)} which the trusted root does not list for this role ` +
        `(${counted}): sign with a listed key, or rotate the root to add it (agentbox-release root rotate)`,
    };
  }
  return {
    reason: 'bad-signature',
    detail:
      `${what}: ${counted}` +
      (check.unknown.length > 0 ? ` (key ${short(check.unknown)} is not listed for this role)` : '') +
      ': add signatures from more listed keys',
  };
}

function short(keyids: readonly string[]): string {
  return keyids.map((id) => id.slice(0, 12)).join(', ');
}
