import { describe, expect, it } from 'vitest';
import { watchdogIntervalMs } from './systemd-watchdog.js';

describe('watchdogIntervalMs', () => {
  const sut = watchdogIntervalMs;

  it('is half of WATCHDOG_USEC', () => {
    expect(sut({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
  });

  it('applies only to the process WATCHDOG_PID names', () => {
    expect(sut({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(sut({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42)).toBeUndefined();
  });

  it('is off without a valid WATCHDOG_USEC', () => {
    expect(sut({}, 42)).toBeUndefined();
    expect(sut({ WATCHDOG_USEC: 'abc' }, 42)).toBeUndefined();
    expect(sut({ WATCHDOG_USEC: '0' }, 42)).toBeUndefined();
  });
});
