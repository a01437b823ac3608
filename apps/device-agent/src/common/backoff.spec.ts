import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff.js';

describe('backoffDelay', () => {
  const sut = backoffDelay;

  it('stays within [0, min(2^n * 500 ms, 30 s)] for every attempt', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(2 ** attempt * 500, 30_000);
      expect(sut(attempt, undefined, () => 0)).toBe(0);
      expect(sut(attempt, undefined, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      expect(sut(attempt, undefined, () => 0.999999)).toBeGreaterThan(ceiling * 0.99);
    }
  });

  it('grows exponentially until the cap', () => {
    const max = (attempt: number) => sut(attempt, undefined, () => 0.999999);
    expect(max(0)).toBe(499);
    expect(max(1)).toBe(999);
    expect(max(5)).toBe(15_999);
    expect(max(6)).toBe(29_999);
    expect(max(1_000)).toBe(29_999);
  });

  it('spreads delays with full jitter', () => {
    const delays = new Set(Array.from({ length: 50 }, () => sut(10)));
    expect(delays.size).toBeGreaterThan(40);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(30_000);
  });

  it('treats a negative attempt as the first one', () => {
    expect(sut(-3, undefined, () => 0.999999)).toBe(499);
  });
});

describe('sleep', () => {
  it('ends early when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const done = sleep(10_000, controller.signal);
    controller.abort();
    await done;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
