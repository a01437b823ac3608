import { ref } from 'vue';
import { useErrorText } from '@/composables/use-error-text';

/**
 * Wraps a page's fetch so a failure becomes a line for its alert instead of a rejection; the line goes
 * away once a later call succeeds.
 */
export function useLoadError<A extends unknown[]>(fetch: (...args: A) => Promise<unknown>) {
  const errorText = useErrorText();
  const error = ref<string | null>(null);

  async function load(...args: A): Promise<void> {
    try {
      await fetch(...args);
      error.value = null;
    } catch (caught) {
      error.value = errorText(caught);
    }
  }

  return { error, load };
}
