import { computed } from 'vue';
import { useRoute, useRouter } from 'vue-router';

/**
 * The page's open tab, kept in `?tab=` so a reload or a shared link lands on it. Switching tabs drops
 * other query keys: they narrow one tab (like the runs tab's agent) and would not fit the next.
 */
export function useQueryTab<Tab extends string>(tabs: readonly Tab[], fallback: Tab) {
  const route = useRoute();
  const router = useRouter();
  return computed<Tab>({
    get: () => (tabs.includes(route.query.tab as Tab) ? (route.query.tab as Tab) : fallback),
    set: (next) => void router.replace({ query: { tab: next } }),
  });
}
