import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { Provider, ProviderCreateBody, ProviderUpdateBody } from '@/api/types';
import { useById, useFetchState } from '@/stores/request-state';

/** Model providers of the fleet. Their API keys never reach the console: only `hasApiKey`. */
export const useProvidersStore = defineStore(
  'providers',
  () => {
    const { byId, get, upsert, drop, replaceAll, clear } = useById<Provider>();
    const { loaded, loading, error, track, forget } = useFetchState();

    const all = computed(() =>
      Object.values(byId.value).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)),
    );
    const count = computed(() => all.value.length);

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/providers'));
        replaceAll(list);
      });
    }

    async function create(body: ProviderCreateBody): Promise<Provider> {
      const provider = await unwrap(api().POST('/api/v1/providers', { body }));
      upsert(provider);
      return provider;
    }

    async function update(id: string, patch: ProviderUpdateBody): Promise<Provider> {
      const provider = await unwrap(
        api().PATCH('/api/v1/providers/{id}', { params: { path: { id } }, body: patch }),
      );
      upsert(provider);
      return provider;
    }

    async function remove(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/providers/{id}', { params: { path: { id } } }));
      drop(id);
    }

    function reset(): void {
      clear();
      forget();
    }

    return { byId, loaded, loading, error, all, count, get, fetchAll, create, update, remove, reset };
  },
  { plumbing: { reset: (store) => store.reset() } },
);
