import { describe, expect, it } from 'vitest';
import { parseRange } from './http-range.js';

describe('parseRange', () => {
  const sut = parseRange;

  it('sends the whole file without a header, for several ranges or another unit', () => {
    expect(sut(undefined, 100)).toBeNull();
    expect(sut('bytes=0-1,5-6', 100)).toBeNull();
    expect(sut('items=0-1', 100)).toBeNull();
  });

  it('answers a closed, an open and a suffix range', () => {
    expect(sut('bytes=0-49', 100)).toEqual({ start: 0, end: 49 });
    expect(sut('bytes=50-', 100)).toEqual({ start: 50, end: 99 });
    expect(sut('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(sut('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
  });

  it('clamps an end past the file', () => {
    expect(sut('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
  });

  it('refuses ranges outside the file or reversed', () => {
    expect(sut('bytes=100-', 100)).toBe('unsatisfiable');
    expect(sut('bytes=100-200', 100)).toBe('unsatisfiable');
    expect(sut('bytes=10-5', 100)).toBe('unsatisfiable');
    expect(sut('bytes=-0', 100)).toBe('unsatisfiable');
    expect(sut('bytes=-', 100)).toBe('unsatisfiable');
    expect(sut('bytes=abc', 100)).toBe('unsatisfiable');
  });
});
