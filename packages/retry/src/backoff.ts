/**
 * How long to wait before retry number `attempt`: `min(2^attempt * baseMs, capMs)`, then jittered.
 * `jitter` is the share of that ceiling left to chance: 0 waits exactly the ceiling, 1 waits a uniform
 * time in [0, ceiling) ("full jitter", which spreads a fleet that lost the broker at the same moment
 * over the whole window), 0.2 waits between 80% and 100% of it.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** 0 (default) to 1. */
  jitter?: number;
}

/** Exponents beyond this would overflow long before any cap matters. */
const MAX_EXPONENT = 30;

export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 0), MAX_EXPONENT);
  const ceiling = Math.min(2 ** exponent * policy.baseMs, policy.capMs);
  const jitter = Math.min(Math.max(policy.jitter ?? 0, 0), 1);
  if (jitter === 0) return ceiling;
  return Math.floor(ceiling * (1 - jitter + jitter * random()));
}
