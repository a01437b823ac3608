import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffPolicy } from './backoff.js';

const FULL_JITTER: BackoffPolicy = { baseMs: 500, capMs: 30_000, jitter: 1 };

describe('backoffDelay with full jitter', () => {
  const sut = (attempt: number, random?: () => number) => backoffDelay(attempt, FULL_JITTER, random);

  it('stays within [0, min(2^n * 500 ms, 30 s)] for every attempt', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(2 ** attempt * 500, 30_000);
      expect(sut(attempt, () => 0)).toBe(0);
      expect(sut(attempt, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      expect(sut(attempt, () => 0.999999)).toBeGreaterThan(ceiling * 0.99);
    }
  });

  it('grows exponentially until the cap', () => {
    const max = (attempt: number) => sut(attempt, () => 0.999999);
    expect(max(0)).toBe(499);
    expect(max(1)).toBe(999);
    expect(max(5)).toBe(15_999);
    expect(max(6)).toBe(29_999);
    expect(max(1_000)).toBe(29_999);
  });

  it('spreads delays', () => {
    const delays = new Set(Array.from({ length: 50 }, () => sut(10)));
    expect(delays.size).toBeGreaterThan(40);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(30_000);
  });

  it('treats a negative attempt as the first one', () => {
    expect(sut(-3, () => 0.999999)).toBe(499);
  });
});

describe('backoffDelay without jitter', () => {
  const sut = (attempt: number) => backoffDelay(attempt, { baseMs: 100, capMs: 1_000 });

  it('is exactly min(2^n * base, cap)', () => {
    expect([0, 1, 2, 3, 4, 60].map(sut)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });
});

describe('backoffDelay with partial jitter', () => {
  it('keeps the delay within the jittered share of the ceiling', () => {
    const policy = { baseMs: 500, capMs: 30_000, jitter: 0.2 };
    expect(backoffDelay(2, policy, () => 0)).toBe(1_600);
    expect(backoffDelay(2, policy, () => 0.999999)).toBe(1_999);
  });
});
