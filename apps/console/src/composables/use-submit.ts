import { ref } from 'vue';
import { useErrorText } from '@/composables/use-error-text';

/**
 * A form's submission: `submitting` while the request runs, and its failure as a line for the form's
 * alert (`error`, which the form may also set itself, e.g. for invalid input).
 */
export function useSubmit() {
  const errorText = useErrorText();
  const submitting = ref(false);
  const error = ref<string | null>(null);

  /** Runs the request; resolves to its result, or to undefined once its failure is in `error`. */
  async function attempt<T>(request: () => Promise<T>): Promise<T | undefined> {
    submitting.value = true;
    error.value = null;
    try {
      return await request();
    } catch (caught) {
      error.value = errorText(caught);
      return undefined;
    } finally {
      submitting.value = false;
    }
  }

  return { submitting, error, attempt };
}
