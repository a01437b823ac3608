import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { ApiKey, ApiKeyCreateBody, ApiKeyCreated } from '@/api/types';
import { newestFirst, useById, useFetchState } from '@/stores/request-state';

/**
 * API keys of the fleet (admin). A new key's secret is handed to the caller of `create` once and never
 * kept here: the list holds what the fleet service lists, without secrets.
 */
export const useApiKeysStore = defineStore(
  'api-keys',
  () => {
    const { byId, upsert, replaceAll, clear } = useById<ApiKey>();
    const { loaded, loading, error, track, forget } = useFetchState();

    const all = computed(() => newestFirst(byId.value));

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/api-keys'));
        replaceAll(list.items);
      });
    }

    async function create(body: ApiKeyCreateBody): Promise<ApiKeyCreated> {
      const created = await unwrap(api().POST('/api/v1/api-keys', { body }));
      const { secret: _shownOnce, ...key } = created;
      upsert(key);
      return created;
    }

    async function revoke(id: string): Promise<ApiKey> {
      const key = await unwrap(api().POST('/api/v1/api-keys/{id}/revoke', { params: { path: { id } } }));
      upsert(key);
      return key;
    }

    function reset(): void {
      clear();
      forget();
    }

    return { byId, loaded, loading, error, all, fetchAll, create, revoke, reset };
  },
  { plumbing: { reset: (store) => store.reset() } },
);
