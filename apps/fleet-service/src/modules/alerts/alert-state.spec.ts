import { describe, expect, it } from 'vitest';
import { stepAlert, type AlertTrack, type StepTiming } from './alert-state.js';

const timing: StepTiming = { forMs: 30_000, clearMs: 20_000, renotifyMs: 600_000 };

/** Runs a condition timeline (ms → active) through the state machine, collecting what was told. */
function run(timeline: Array<[number, boolean]>, options: { silencedUntil?: number } = {}) {
  let track: AlertTrack | undefined;
  const told: Array<[number, 'firing' | 'resolved']> = [];
  for (const [now, active] of timeline) {
    const silenced = options.silencedUntil !== undefined && now < options.silencedUntil;
    const result = stepAlert(track, active, now, timing, silenced);
    track = result.track ?? undefined;
    if (result.notify) told.push([now, result.notify]);
  }
  return { track, told };
}

const every = (from: number, to: number, step: number, active: boolean): Array<[number, boolean]> => {
  const out: Array<[number, boolean]> = [];
  for (let t = from; t <= to; t += step) out.push([t, active]);
  return out;
};

describe('stepAlert', () => {
  it('fires only once the condition held forMs, from when it began', () => {
    const { track, told } = run(every(0, 40_000, 10_000, true));
    expect(told).toEqual([[30_000, 'firing']]);
    expect(track).toMatchObject({ state: 'firing', startsAt: 0 });
  });

  it('forgets a condition that clears before forMs', () => {
    expect(run([...every(0, 20_000, 10_000, true), [25_000, false]])).toEqual({ track: undefined, told: [] });
  });

  it('resolves only after clearMs clear, and a blip back resets the clock', () => {
    const { track, told } = run([
      ...every(0, 30_000, 10_000, true),
      [40_000, false],
      [55_000, true], // back before clearMs: still the same firing, nothing told
      [60_000, false],
      [75_000, false],
      [80_000, false],
    ]);
    expect(told).toEqual([
      [30_000, 'firing'],
      [80_000, 'resolved'],
    ]);
    expect(track).toMatchObject({ state: 'resolved', endsAt: 80_000 });
  });

  const flapping = (onlineMs: number) => {
    const timeline: Array<[number, boolean]> = [];
    const period = 40_000 + onlineMs;
    for (let cycle = 0; cycle < 10; cycle++) {
      const base = cycle * period;
      timeline.push(
        ...every(base, base + 30_000, 10_000, true),
        ...every(base + 40_000, base + period - 1, 10_000, false),
      );
    }
    return run(timeline).told;
  };

  it('keeps a box flapping faster than clearMs firing, told once', () => {
    expect(flapping(20_000)).toEqual([[30_000, 'firing']]);
  });

  it('tells a slower flapping box at most once per renotifyMs, each resolved after a told firing', () => {
    const told = flapping(60_000); // 100 s cycles, 1000 s in all
    const firings = told.filter(([, event]) => event === 'firing').map(([at]) => at);
    expect(firings).toEqual([30_000, 630_000]);
    let open = false;
    for (const [, event] of told) {
      expect(event === 'firing' ? !open : open).toBe(true);
      open = event === 'firing';
    }
  });

  it('tells nobody while silenced, and tells a still-firing alert once the silence ends', () => {
    const { told } = run([...every(0, 100_000, 10_000, true)], { silencedUntil: 60_000 });
    expect(told).toEqual([[60_000, 'firing']]);
    const quiet = run([...every(0, 40_000, 10_000, true), ...every(50_000, 80_000, 10_000, false)], {
      silencedUntil: 1_000_000,
    });
    expect(quiet.told).toEqual([]);
    expect(quiet.track).toMatchObject({ state: 'resolved' });
  });

  it('fires at once with forMs 0', () => {
    expect(stepAlert(undefined, true, 5, { ...timing, forMs: 0 }).notify).toBe('firing');
  });
});
