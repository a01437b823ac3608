import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { ClaimTokenListItem } from '@/api/types';
import { newestFirst, useById, useFetchState } from '@/stores/request-state';

/** Claim tokens of the fleet (admin), without their plaintext, which only Add box shows, once. */
export const useClaimTokensStore = defineStore(
  'claim-tokens',
  () => {
    const { byId, replaceAll, clear } = useById<ClaimTokenListItem>();
    const { loaded, loading, error, track, forget } = useFetchState();

    const all = computed(() => newestFirst(byId.value));

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/claim-tokens'));
        replaceAll(list.items);
      });
    }

    /** Revoking answers with no body: the list is taken again for the token's new state. */
    async function revoke(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/claim-tokens/{id}', { params: { path: { id } } }));
      await fetchAll();
    }

    function reset(): void {
      clear();
      forget();
    }

    return { byId, loaded, loading, error, all, fetchAll, revoke, reset };
  },
  { plumbing: { reset: (store) => store.reset() } },
);
