import { computed, onMounted } from 'vue';
import { keepErrorInStore, useRequestError } from '@/composables/use-request-error';

/** What a store keeps about its list request (`useFetchState`). */
export interface ListRequest {
  loading: boolean;
  loaded: boolean;
  error: unknown;
}

/**
 * A list page's refresh, run when the page opens, and what ResourceListPage shows of the request:
 * `v-bind="page"` gives it the spinner, the empty state's cue and the error line, from the store (`list`)
 * and from any other store the page fetches from (`others`), first error first.
 */
export function useResourceList(
  fetch: () => Promise<unknown>,
  list: ListRequest,
  ...others: Array<Pick<ListRequest, 'error'>>
) {
  const error = useRequestError(...[list, ...others].map((store) => () => store.error));
  const refresh = keepErrorInStore(fetch);
  onMounted(refresh);
  const page = computed(() => ({
    error: error.value,
    loading: list.loading,
    loaded: list.loaded,
    onRefresh: refresh,
  }));
  return { page, error, refresh };
}
