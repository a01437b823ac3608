/**
 * Waits `ms`, or less when `signal` aborts. Resolves `true` when the whole time passed and `false` when
 * the wait was cut short, so a loop decides itself what an abort means (stop quietly, or throw).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => finish(true), Math.max(0, ms));
    const onAbort = () => finish(false);
    function finish(elapsed: boolean) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(elapsed);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits `ms`; rejects as soon as `signal` aborts, with `abortError()` when given, else the signal's reason
 * (what `AbortSignal.throwIfAborted` would throw).
 */
export async function sleepOrThrow(
  ms: number,
  signal?: AbortSignal,
  abortError?: () => Error,
): Promise<void> {
  if (await sleep(ms, signal)) return;
  throw abortError ? abortError() : (signal?.reason as Error);
}
