import { describe, expect, it } from 'vitest';
import { BUSY_RETRY_MIN_MS, reconnectDelay } from './link.service.js';

/** Draws from a fixed list, so each case sees the jitter's extremes. */
function draws(...values: number[]): () => number {
  let next = 0;
  return () => values[next++ % values.length] as number;
}

describe('reconnectDelay', () => {
  it('keeps the usual backoff after other failures: under a second at first', () => {
    expect(reconnectDelay(0, false, draws(0.999))).toBeLessThan(1_000);
    expect(reconnectDelay(0, false, draws(0))).toBe(0);
  });

  it('waits at least 5 s after a busy refusal, jittered over as long again', () => {
    for (const failures of [0, 1, 3, 10, 40]) {
      for (const random of [0, 0.25, 0.5, 0.999]) {
        const delay = reconnectDelay(failures, true, draws(random));
        expect(delay, `${failures} failures, draw ${random}`).toBeGreaterThanOrEqual(BUSY_RETRY_MIN_MS);
      }
    }
    expect(BUSY_RETRY_MIN_MS).toBe(5_000);
    expect(reconnectDelay(0, true, draws(0, 0))).toBe(5_000);
    expect(reconnectDelay(0, true, draws(0, 0.999))).toBe(9_995);
  });

  it('spreads boxes refused together over the jitter window', () => {
    const delays = Array.from({ length: 1_000 }, () => reconnectDelay(0, true));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5_000);
    expect(Math.max(...delays)).toBeLessThan(10_000);
    expect(new Set(delays.map((delay) => Math.floor(delay / 1_000))).size).toBe(5);
  });

  it('keeps the grown backoff when it is already longer than the busy wait', () => {
    // 30 s cap, full jitter: a draw of 0.9 gives 27 s.
    expect(reconnectDelay(20, true, draws(0.9, 0))).toBe(27_000);
  });
});
