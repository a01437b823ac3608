import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { Hook, HookCreateBody, HookCreated, HookDelivery } from '@/api/types';
import { newestFirst, useById, useFetchState } from '@/stores/request-state';

/**
 * Webhooks relayed to agents on boxes. A secret (on create and rotate) is handed to the caller once and
 * never kept here: the list holds what the fleet service lists, without secrets.
 */
export const useHooksStore = defineStore(
  'hooks',
  () => {
    const { byId, upsert, drop, replaceAll, clear } = useById<Hook>();
    const { loaded, loading, error, track, forget } = useFetchState();

    const all = computed(() => newestFirst(byId.value));

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/hooks'));
        replaceAll(list.items);
      });
    }

    function keep(created: HookCreated): HookCreated {
      const { secret: _shownOnce, ...hook } = created;
      upsert(hook);
      return created;
    }

    async function create(body: HookCreateBody): Promise<HookCreated> {
      return keep(await unwrap(api().POST('/api/v1/hooks', { body })));
    }

    async function rotateSecret(id: string): Promise<HookCreated> {
      return keep(await unwrap(api().POST('/api/v1/hooks/{id}/secret', { params: { path: { id } } })));
    }

    async function remove(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/hooks/{id}', { params: { path: { id } } }));
      drop(id);
    }

    async function deliveries(id: string): Promise<HookDelivery[]> {
      return (await unwrap(api().GET('/api/v1/hooks/{id}/deliveries', { params: { path: { id } } }))).items;
    }

    function reset(): void {
      clear();
      forget();
    }

    return { byId, loaded, loading, error, all, fetchAll, create, rotateSecret, remove, deliveries, reset };
  },
  { plumbing: { reset: (store) => store.reset() } },
);
