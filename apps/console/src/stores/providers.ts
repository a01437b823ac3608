import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { Provider, ProviderCreateBody, ProviderUpdateBody } from '@/api/types';
import { useFetchState } from '@/stores/request-state';

/** Model providers of the fleet. Their API keys never reach the console: only `hasApiKey`. */
export const useProvidersStore = defineStore('providers', () => {
  const byId = ref<Record<string, Provider>>({});
  const { loaded, loading, error, track } = useFetchState();

  const all = computed(() =>
    Object.values(byId.value).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id)),
  );
  const count = computed(() => all.value.length);

  function get(id: string): Provider | undefined {
    return byId.value[id];
  }

  function upsert(provider: Provider): void {
    byId.value = { ...byId.value, [provider.id]: provider };
  }

  async function fetchAll(): Promise<void> {
    await track(async () => {
      const list = await unwrap(api().GET('/api/v1/providers'));
      byId.value = Object.fromEntries(list.map((provider) => [provider.id, provider]));
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
    const { [id]: _gone, ...rest } = byId.value;
    byId.value = rest;
  }

  function reset(): void {
    byId.value = {};
    loaded.value = false;
    error.value = null;
  }

  return { byId, loaded, loading, error, all, count, get, fetchAll, create, update, remove, reset };
});
