import { onMounted } from 'vue';
import { keepErrorInStore, useRequestError } from '@/composables/use-request-error';

export interface ResourceListSource {
  /** Fetches the list (and whatever else the page shows); the stores keep a failure. */
  fetch: () => Promise<unknown>;
  /** The errors the stores keep for those requests, first one first. */
  errors: Array<() => unknown>;
}

/** A list page's refresh, run when the page opens, and its error line from the stores. */
export function useResourceList({ fetch, errors }: ResourceListSource) {
  const error = useRequestError(...errors);
  const refresh = keepErrorInStore(fetch);
  onMounted(refresh);
  return { error, refresh };
}
