import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { sleepOrThrow } from './sleep.js';

export interface RetryOptions {
  /** Tries in all, the first included (at least 1). */
  attempts: number;
  backoff: BackoffPolicy;
  /** The exponent of the first retry's delay (the delay before try n+1 uses `n - 1 + firstExponent`). */
  firstExponent?: number;
  signal?: AbortSignal;
  /**
   * Whether `error` is worth another try, and optionally how long the other side asked us to wait
   * (an HTTP `Retry-After`): `false` gives up at once. Defaults to retrying everything.
   */
  retryable?: (error: unknown) => boolean | { retryAfterMs: number };
  /** Told before each wait, e.g. to log or count the failure. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
}

/**
 * Runs `work` until it succeeds, waiting a capped exponential backoff between tries; rethrows the last
 * error once `attempts` are spent or the error is not retryable, and the signal's reason when aborted.
 */
export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = Math.max(1, options.attempts);
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= attempts) throw error;
      const verdict = options.retryable ? options.retryable(error) : true;
      if (verdict === false) throw error;
      const delay =
        typeof verdict === 'object'
          ? verdict.retryAfterMs
          : backoffDelay(attempt - 1 + (options.firstExponent ?? 0), options.backoff, options.random);
      options.onRetry?.(error, attempt, delay);
      await sleepOrThrow(delay, options.signal);
    }
  }
}
