// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { useFetchState, useLatestRequest } from './request-state';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('useFetchState', () => {
  it('marks loaded and clears an earlier error once a fetch succeeds', async () => {
    const sut = useFetchState();
    const failure = new Error('down');
    await expect(sut.track(() => Promise.reject(failure))).rejects.toBe(failure);
    expect(sut.error.value).toBe(failure);
    expect(sut.loaded.value).toBe(false);

    const pending = deferred<void>();
    const tracked = sut.track(() => pending.promise);
    expect(sut.loading.value).toBe(true);
    pending.resolve();
    await tracked;
    expect(sut).toMatchObject({ loaded: { value: true }, loading: { value: false }, error: { value: null } });
  });
});

describe('useLatestRequest', () => {
  it('applies only the newest answer and keeps loading on until it arrives', async () => {
    const sut = useLatestRequest();
    const applied: string[] = [];
    const older = deferred<string>();
    const newer = deferred<string>();
    const first = sut.latest(
      () => older.promise,
      (value) => applied.push(value),
    );
    const second = sut.latest(
      () => newer.promise,
      (value) => applied.push(value),
    );

    older.resolve('older');
    await first;
    expect(applied).toEqual([]);
    expect(sut.loading.value).toBe(true);

    newer.resolve('newer');
    await second;
    expect(applied).toEqual(['newer']);
    expect(sut.loading.value).toBe(false);
  });

  it('rethrows a stale failure without recording it', async () => {
    const sut = useLatestRequest();
    const older = deferred<string>();
    const first = sut.latest(
      () => older.promise,
      () => undefined,
    );
    const second = sut.latest(
      () => Promise.resolve('fresh'),
      () => undefined,
    );
    await second;
    const failure = new Error('late');
    older.reject(failure);
    await expect(first).rejects.toBe(failure);
    expect(sut.error.value).toBeNull();
  });

  it('drops the answer in flight after abandon', async () => {
    const sut = useLatestRequest();
    const pending = deferred<string>();
    const applied: string[] = [];
    const request = sut.latest(
      () => pending.promise,
      (value) => applied.push(value),
    );
    sut.abandon();
    expect(sut.loading.value).toBe(false);
    pending.resolve('late');
    await request;
    expect(applied).toEqual([]);
    expect(sut.loading.value).toBe(false);
  });
});
