import { afterEach, describe, expect, it } from 'vitest';
import { nextTick, reactive, type App } from 'vue';
import { mountComposable } from '@/testing/mount-composable';
import { keepErrorInStore } from './use-request-error';
import { useResourceList, type ListRequest } from './use-resource-list';

describe('useResourceList', () => {
  let app: App | undefined;
  afterEach(() => app?.unmount());

  it('fetches when the page opens and shows the error the store keeps, without a copy of it', async () => {
    const store = reactive<ListRequest>({ loading: false, loaded: false, error: null });
    let calls = 0;
    const mounted = mountComposable(() =>
      useResourceList(() => {
        calls += 1;
        const failure = new Error('fleet service unreachable');
        store.error = failure;
        return Promise.reject(failure);
      }, store),
    );
    app = mounted.app;
    const sut = mounted.result;
    await nextTick();

    expect(calls).toBe(1);
    expect(sut.error.value).toBe('fleet service unreachable');
    expect(sut.page.value.error).toBe('fleet service unreachable');

    store.error = null;
    store.loaded = true;
    expect(sut.page.value).toMatchObject({ error: null, loading: false, loaded: true });
    await expect(sut.refresh()).resolves.toBeUndefined();
    expect(calls).toBe(2);
    expect(sut.error.value).toBe('fleet service unreachable');
  });

  it('shows the first of several requests that failed', () => {
    const mounted = mountComposable(() =>
      useResourceList(
        () => Promise.resolve(),
        { loading: false, loaded: true, error: null },
        { error: new Error('releases failed') },
        { error: new Error('later') },
      ),
    );
    app = mounted.app;

    expect(mounted.result.error.value).toBe('releases failed');
  });
});

describe('keepErrorInStore', () => {
  it('passes the arguments on and resolves whatever the request did', async () => {
    const seen: number[] = [];
    const sut = keepErrorInStore((n: number) => {
      seen.push(n);
      return n > 1 ? Promise.reject(new Error('refused')) : Promise.resolve();
    });

    await expect(sut(1)).resolves.toBeUndefined();
    await expect(sut(2)).resolves.toBeUndefined();
    expect(seen).toEqual([1, 2]);
  });
});
