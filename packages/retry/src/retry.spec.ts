import { describe, expect, it } from 'vitest';
import { retry } from './retry.js';

const fast = { baseMs: 1, capMs: 4 };

describe('retry', () => {
  it('returns the first success, counting tries from 1', async () => {
    const seen: number[] = [];
    const result = await retry(
      (attempt) => {
        seen.push(attempt);
        if (attempt < 3) return Promise.reject(new Error(`try ${attempt}`));
        return Promise.resolve('ok');
      },
      { attempts: 5, backoff: fast },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('rethrows the last error once the attempts are spent', async () => {
    let tries = 0;
    await expect(
      retry(
        (attempt) => {
          tries += 1;
          return Promise.reject(new Error(`try ${attempt}`));
        },
        { attempts: 3, backoff: fast },
      ),
    ).rejects.toThrow('try 3');
    expect(tries).toBe(3);
  });

  it('gives up at once on an error that is not retryable', async () => {
    let tries = 0;
    await expect(
      retry(
        () => {
          tries += 1;
          return Promise.reject(new Error('bad request'));
        },
        { attempts: 5, backoff: fast, retryable: () => false },
      ),
    ).rejects.toThrow('bad request');
    expect(tries).toBe(1);
  });

  it('waits what the error asks for instead of the backoff, and reports each retry', async () => {
    const delays: number[] = [];
    await retry((attempt) => (attempt === 1 ? Promise.reject(new Error('busy')) : Promise.resolve(attempt)), {
      attempts: 2,
      backoff: { baseMs: 60_000, capMs: 60_000 },
      retryable: () => ({ retryAfterMs: 5 }),
      onRetry: (_error, _attempt, delay) => delays.push(delay),
    });
    expect(delays).toEqual([5]);
  });

  it('uses the exponential delays from firstExponent on', async () => {
    const delays: number[] = [];
    await expect(
      retry(() => Promise.reject(new Error('down')), {
        attempts: 4,
        backoff: { baseMs: 1, capMs: 100 },
        firstExponent: 1,
        onRetry: (_error, _attempt, delay) => delays.push(delay),
      }),
    ).rejects.toThrow('down');
    expect(delays).toEqual([2, 4, 8]);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const done = retry(() => Promise.reject(new Error('down')), {
      attempts: 10,
      backoff: { baseMs: 10_000, capMs: 10_000 },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('stopped')), 10);
    await expect(done).rejects.toThrow('stopped');
  });
});
