import { afterEach, describe, expect, it } from 'vitest';
import type { App } from 'vue';
import { ApiRequestError } from '@/api/errors';
import { mountComposable } from '@/testing/mount-composable';
import { useSubmit } from './use-submit';

describe('useSubmit', () => {
  let app: App;
  afterEach(() => app.unmount());

  it('is submitting while the request runs and hands back its result', async () => {
    const mounted = mountComposable(() => useSubmit());
    app = mounted.app;
    const sut = mounted.result;
    sut.error.value = 'an earlier failure';

    const pending = sut.attempt(() => Promise.resolve(42));
    expect(sut.submitting.value).toBe(true);
    expect(sut.error.value).toBeNull();

    await expect(pending).resolves.toBe(42);
    expect(sut.submitting.value).toBe(false);
  });

  it('keeps a failure as the line for the form and resolves to undefined', async () => {
    const mounted = mountComposable(() => useSubmit());
    app = mounted.app;
    const sut = mounted.result;

    await expect(
      sut.attempt(() => Promise.reject(new ApiRequestError(409, 'SOMETHING_ELSE', 'already there'))),
    ).resolves.toBeUndefined();

    expect(sut.error.value).toBe('already there');
    expect(sut.submitting.value).toBe(false);
  });
});
