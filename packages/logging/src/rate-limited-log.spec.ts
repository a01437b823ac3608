import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from './rate-limited-log.js';

describe('RateLimitedLog', () => {
  it('lets one line per key through per window and reports how many were suppressed', () => {
    let now = 0;
    const sut = new RateLimitedLog(10_000, () => now);
    expect(sut.take('A')).toBe(0);
    expect(sut.take('A')).toBeNull();
    expect(sut.take('A')).toBeNull();
    expect(sut.take('B')).toBe(0);
    now = 9_999;
    expect(sut.take('A')).toBeNull();
    now = 10_000;
    expect(sut.take('A')).toBe(3);
    expect(sut.take('A')).toBeNull();
  });

  it('writes the line with the count of suppressed ones appended', () => {
    let now = 0;
    const sut = new RateLimitedLog(1_000, () => now);
    expect(sut.line('k', 'disk full')).toBe('disk full');
    expect(sut.line('k', 'disk full')).toBeNull();
    expect(sut.line('k', 'disk full')).toBeNull();
    now = 1_000;
    expect(sut.line('k', 'disk full')).toBe('disk full (2 more since the last line)');
  });
});
