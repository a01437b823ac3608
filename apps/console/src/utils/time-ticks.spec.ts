import { describe, expect, it } from 'vitest';
import { DAY, timeStep, timeTickLabel, timeTicks } from './time-ticks';

const local = (...parts: [number, number, number, number?, number?, number?]): number =>
  new Date(...parts).getTime();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('timeTicks', () => {
  it('puts ticks on round local times within the range, as many as fit', () => {
    const from = local(2026, 11, 7, 14, 7, 31);
    const ticks = timeTicks(from, from + HOUR, 5);
    expect(timeStep(from, from + HOUR, 5)).toBe(15 * MINUTE);
    expect(timeStep(from, from + HOUR, 6)).toBe(10 * MINUTE);
    expect(ticks.map((tick) => tick.value)).toEqual([
      local(2026, 11, 7, 14, 15),
      local(2026, 11, 7, 14, 30),
      local(2026, 11, 7, 14, 45),
      local(2026, 11, 7, 15, 0),
    ]);
  });

  it('marks midnight, which is labelled with the date', () => {
    const from = local(2026, 11, 7, 20);
    const ticks = timeTicks(from, from + 6 * HOUR, 4);
    expect(ticks.map((tick) => new Date(tick.value).getHours())).toEqual([20, 22, 0, 2]);
    expect(ticks.map((tick) => tick.major)).toEqual([false, false, true, false]);
    expect(timeTickLabel(ticks[2]!.value, 2 * HOUR, 'en-US')).toBe('Dec 8');
    expect(timeTickLabel(ticks[0]!.value, 2 * HOUR, 'en-US')).toBe(
      new Intl.DateTimeFormat('en-US', { hour: '2-digit', minute: '2-digit' }).format(ticks[0]!.value),
    );
    expect(timeTickLabel(ticks[2]!.value, 2 * HOUR, 'zh-CN')).toBe('12月8日');
  });

  it('steps whole local days over long ranges, and weeks beyond two', () => {
    const from = local(2026, 10, 1, 9);
    const ticks = timeTicks(from, from + 10 * DAY, 5);
    expect(ticks[0]!.value).toBe(local(2026, 10, 2));
    expect(ticks[1]!.value).toBe(local(2026, 10, 4));
    expect(timeStep(0, 200 * DAY, 5)).toBe(42 * DAY);
  });

  it('has no ticks for an empty range', () => {
    expect(timeTicks(5, 5, 4)).toEqual([]);
    expect(timeTicks(Number.NaN, 5, 4)).toEqual([]);
  });
});
