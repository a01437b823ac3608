import { computed, type ComputedRef } from 'vue';
import { useErrorText } from '@/composables/use-error-text';

/**
 * The line for a page's alert from the errors its stores keep for their requests (the first one set),
 * in the current language; null while every request went through.
 */
export function useRequestError(...errors: Array<() => unknown>): ComputedRef<string | null> {
  const errorText = useErrorText();
  return computed(() => {
    const error = errors.map((read) => read()).find((value) => value !== null && value !== undefined);
    return error === undefined ? null : errorText(error);
  });
}

/**
 * A store request for a page: its failure stays in the store (shown through `useRequestError`), so the
 * page neither keeps a copy of it nor sees a rejection.
 */
export function keepErrorInStore<A extends unknown[]>(
  request: (...args: A) => Promise<unknown>,
): (...args: A) => Promise<void> {
  return async (...args) => {
    await request(...args).catch(() => undefined);
  };
}
