import { describe, expect, it } from 'vitest';
import { sleep, sleepOrThrow } from './sleep.js';

describe('sleep', () => {
  it('resolves true once the whole time has passed', async () => {
    const started = Date.now();
    expect(await sleep(30)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('ends early, resolving false, when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const done = sleep(10_000, controller.signal);
    controller.abort();
    expect(await done).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not wait at all on a signal already aborted', async () => {
    expect(await sleep(10_000, AbortSignal.abort())).toBe(false);
  });
});

describe('sleepOrThrow', () => {
  it('rejects with the signal reason when aborted', async () => {
    const controller = new AbortController();
    const done = sleepOrThrow(10_000, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(done).rejects.toThrow('stopping');
  });

  it('rejects with the caller error when one is given', async () => {
    await expect(sleepOrThrow(10_000, AbortSignal.abort(), () => new Error('aborted call'))).rejects.toThrow(
      'aborted call',
    );
  });

  it('resolves when not aborted', async () => {
    await expect(sleepOrThrow(5, new AbortController().signal)).resolves.toBeUndefined();
  });
});
