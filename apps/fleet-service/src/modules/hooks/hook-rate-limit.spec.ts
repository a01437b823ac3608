import { describe, expect, it } from 'vitest';
import { HookRateLimit } from './hook-rate-limit.js';

describe('HookRateLimit', () => {
  it('allows a burst of the per-minute rate, then refills continuously', () => {
    let now = 0;
    const sut = new HookRateLimit(3, () => now);
    expect([sut.take('a'), sut.take('a'), sut.take('a')]).toEqual([0, 0, 0]);
    expect(sut.take('a')).toBe(20);
    expect(sut.take('b')).toBe(0);
    now += 20_000;
    expect(sut.take('a')).toBe(0);
    expect(sut.take('a')).toBeGreaterThan(0);
  });
});
