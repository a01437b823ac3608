import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { isNotFound, unwrap } from '@/api/errors';
import type { Rollout, RolloutAction, RolloutCreateBody, RolloutDetail } from '@/api/ota-types';
import { useFetchState, useLatestRequest } from '@/stores/request-state';

/**
 * Runs `fetch` now, or once more after the one in flight: a burst of live events (a thousand boxes
 * reporting) costs at most two fetches instead of one per event.
 */
function coalesced(fetch: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = async (): Promise<void> => {
    try {
      do {
        again = false;
        await fetch();
      } while (again);
    } finally {
      running = null;
    }
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = run();
    return running;
  };
}

/** Rollouts of releases to boxes: the list, and the one being watched with its phases and boxes. */
export const useRolloutsStore = defineStore(
  'rollouts',
  () => {
    const byId = ref<Record<string, Rollout>>({});
    const { loaded, loading, error, track, forget } = useFetchState();

    const currentId = ref<string | null>(null);
    const current = ref<RolloutDetail | null>(null);
    const currentMissing = ref(false);
    const detail = useLatestRequest();

    /** Newest first. */
    const all = computed(() =>
      Object.values(byId.value).sort(
        (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
      ),
    );

    function get(id: string): Rollout | undefined {
      return byId.value[id];
    }

    function toSummary({ phases: _phases, boxes: _boxes, ...summary }: RolloutDetail): Rollout {
      return summary;
    }

    function apply(next: RolloutDetail): void {
      if (loaded.value || byId.value[next.id]) byId.value = { ...byId.value, [next.id]: toSummary(next) };
      if (currentId.value === next.id) {
        current.value = next;
        currentMissing.value = false;
      }
    }

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const list = await unwrap(api().GET('/api/v1/rollouts'));
        byId.value = Object.fromEntries(list.map((rollout) => [rollout.id, rollout]));
      });
    }

    async function load(id: string): Promise<void> {
      if (currentId.value !== id) {
        current.value = null;
        currentMissing.value = false;
      }
      currentId.value = id;
      try {
        await detail.latest(
          () => unwrap(api().GET('/api/v1/rollouts/{id}', { params: { path: { id } } })),
          (next) => apply(next),
        );
      } catch (caught) {
        if (isNotFound(caught) && currentId.value === id) {
          currentMissing.value = true;
          return;
        }
        throw caught;
      }
    }

    async function create(body: RolloutCreateBody): Promise<RolloutDetail> {
      const created = await unwrap(api().POST('/api/v1/rollouts', { body }));
      byId.value = { ...byId.value, [created.id]: toSummary(created) };
      return created;
    }

    async function act(id: string, action: RolloutAction): Promise<RolloutDetail> {
      const params = { params: { path: { id } } };
      let next: RolloutDetail;
      switch (action) {
        case 'start':
          next = await unwrap(api().POST('/api/v1/rollouts/{id}/start', params));
          break;
        case 'pause':
          next = await unwrap(api().POST('/api/v1/rollouts/{id}/pause', params));
          break;
        case 'resume':
          next = await unwrap(api().POST('/api/v1/rollouts/{id}/resume', params));
          break;
        case 'cancel':
          next = await unwrap(api().POST('/api/v1/rollouts/{id}/cancel', params));
          break;
        case 'retry-failed':
          next = await unwrap(api().POST('/api/v1/rollouts/{id}/retry-failed', params));
          break;
      }
      apply(next);
      return next;
    }

    const refreshCurrent = coalesced(async () => {
      if (currentId.value !== null) await load(currentId.value);
    });
    const refreshList = coalesced(fetchAll);

    /** A `rollout` event names the rollout that changed: the watched one and the list are taken again. */
    async function applyLiveEvent(event: LiveEvent): Promise<void> {
      if (event.type !== 'rollout') return;
      const work: Promise<void>[] = [];
      if (event.rolloutId === currentId.value) work.push(refreshCurrent());
      if (loaded.value) work.push(refreshList());
      await Promise.all(work);
    }

    /** After the live stream was down: whatever is on screen is taken again. */
    async function refetch(): Promise<void> {
      const work: Promise<void>[] = [];
      if (currentId.value !== null) work.push(refreshCurrent());
      if (loaded.value) work.push(refreshList());
      await Promise.all(work);
    }

    function leave(): void {
      detail.abandon();
      currentId.value = null;
      current.value = null;
      currentMissing.value = false;
    }

    function reset(): void {
      leave();
      byId.value = {};
      forget();
    }

    return {
      byId,
      loaded,
      loading,
      error,
      all,
      currentId,
      current,
      currentMissing,
      currentLoading: detail.loading,
      currentError: detail.error,
      get,
      fetchAll,
      load,
      create,
      act,
      applyLiveEvent,
      refetch,
      leave,
      reset,
    };
  },
  {
    plumbing: {
      reset: (store) => store.reset(),
      live: { rollout: (store, event) => store.applyLiveEvent(event) },
      reconnected: (store) => store.refetch(),
    },
  },
);
