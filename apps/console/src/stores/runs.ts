import {
  FINAL_RUN_STATUSES,
  type LiveEvent,
  type RunEvent,
  type RunRecord,
  type RunStatus,
} from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '@/api/client';
import { ApiRequestError, unwrap } from '@/api/errors';
import type { Run } from '@/api/types';

/** Largest page of GET /api/v1/runs the console asks for. */
export const RUNS_PAGE = 50;

export interface RunFilter {
  deviceId?: string;
  agentId?: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A run record from the live stream (times in epoch ms) in the shape the HTTP API returns. */
export function runFromRecord(deviceId: string, record: RunRecord): Run {
  const { startedAt, endedAt, ...rest } = record;
  return {
    ...rest,
    deviceId,
    createdAt: new Date(record.createdAt).toISOString(),
    ...(startedAt !== undefined ? { startedAt: iso(startedAt) } : {}),
    ...(endedAt !== undefined ? { endedAt: iso(endedAt) } : {}),
    updatedAt: new Date().toISOString(),
  };
}

export function isFinal(status: RunStatus): boolean {
  return FINAL_RUN_STATUSES.includes(status);
}

/** Later states win: an ended run never goes back to running because of a late or replayed record. */
function mergeRun(existing: Run | undefined, incoming: Run): Run {
  if (!existing) return incoming;
  if (isFinal(existing.status) && !isFinal(incoming.status)) return existing;
  return incoming;
}

/** Steps ordered by index, each index once (a replay brings the same step again). */
export function mergeEvents(current: readonly RunEvent[], incoming: readonly RunEvent[]): RunEvent[] {
  const byIndex = new Map<number, RunEvent>();
  for (const event of current) byIndex.set(event.index, event);
  for (const event of incoming) byIndex.set(event.index, event);
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

function matches(filter: RunFilter, run: Pick<Run, 'deviceId' | 'agentId'>): boolean {
  return (
    (filter.deviceId === undefined || filter.deviceId === run.deviceId) &&
    (filter.agentId === undefined || filter.agentId === run.agentId)
  );
}

const byNewest = (a: Run, b: Run) => Date.parse(b.createdAt) - Date.parse(a.createdAt);

/** Run history for one agent or box, and the one run on screen with its steps, both kept live. */
export const useRunsStore = defineStore(
  'runs',
  () => {
    const filter = ref<RunFilter | null>(null);
    const list = shallowRef<Run[]>([]);
    const listLoading = ref(false);
    const listError = ref<unknown>(null);
    const hasMore = ref(false);
    let listRequest = 0;

    const currentId = ref<string | null>(null);
    const current = ref<Run | null>(null);
    const events = shallowRef<RunEvent[]>([]);
    const currentLoading = ref(false);
    const currentError = ref<unknown>(null);
    const currentMissing = ref(false);
    let currentRequest = 0;

    const isLive = computed(() => current.value !== null && !isFinal(current.value.status));

    async function fetchPage(which: RunFilter, before?: string): Promise<Run[]> {
      return unwrap(
        api().GET('/api/v1/runs', {
          params: { query: { ...which, limit: RUNS_PAGE, ...(before ? { before } : {}) } },
        }),
      );
    }

    async function loadList(next: RunFilter): Promise<void> {
      const mine = ++listRequest;
      const sameFilter = filter.value?.agentId === next.agentId && filter.value?.deviceId === next.deviceId;
      if (!sameFilter) list.value = [];
      filter.value = { ...next };
      listLoading.value = true;
      try {
        const page = await fetchPage(next);
        if (mine !== listRequest) return;
        // Keep runs the live stream brought in while the page was on its way.
        const byId = new Map(page.map((run) => [run.id, run]));
        for (const run of list.value) byId.set(run.id, mergeRun(byId.get(run.id), run));
        list.value = [...byId.values()].sort(byNewest);
        hasMore.value = page.length === RUNS_PAGE;
        listError.value = null;
      } catch (caught) {
        if (mine === listRequest) listError.value = caught;
        throw caught;
      } finally {
        if (mine === listRequest) listLoading.value = false;
      }
    }

    async function loadMore(): Promise<void> {
      const which = filter.value;
      const oldest = list.value.at(-1);
      if (!which || !oldest || !hasMore.value) return;
      const mine = listRequest;
      listLoading.value = true;
      try {
        const page = await fetchPage(which, oldest.createdAt);
        if (mine !== listRequest) return;
        const known = new Set(list.value.map((run) => run.id));
        list.value = [...list.value, ...page.filter((run) => !known.has(run.id))];
        hasMore.value = page.length === RUNS_PAGE;
      } catch (caught) {
        // The list keeps one error: a later page that failed shows like a first page that did.
        if (mine === listRequest) listError.value = caught;
        throw caught;
      } finally {
        if (mine === listRequest) listLoading.value = false;
      }
    }

    async function loadRun(id: string): Promise<void> {
      const mine = ++currentRequest;
      if (currentId.value !== id) {
        current.value = null;
        events.value = [];
      }
      currentId.value = id;
      currentMissing.value = false;
      currentLoading.value = true;
      try {
        const detail = await unwrap(api().GET('/api/v1/runs/{id}', { params: { path: { id } } }));
        if (mine !== currentRequest) return;
        const { events: steps, ...run } = detail;
        current.value = mergeRun(current.value ?? undefined, run);
        events.value = mergeEvents(events.value, steps);
        currentError.value = null;
      } catch (caught) {
        if (mine !== currentRequest) return;
        // Right after "send task" the box may not have reported the run yet; the live stream brings it.
        if (caught instanceof ApiRequestError && caught.statusCode === 404) currentMissing.value = true;
        else currentError.value = caught;
      } finally {
        if (mine === currentRequest) currentLoading.value = false;
      }
    }

    function clearRun(): void {
      currentRequest += 1;
      currentId.value = null;
      current.value = null;
      events.value = [];
      currentLoading.value = false;
      currentError.value = null;
      currentMissing.value = false;
    }

    function applyLiveEvent(event: LiveEvent): void {
      switch (event.type) {
        case 'run': {
          const run = runFromRecord(event.deviceId, event.run);
          if (filter.value && matches(filter.value, run)) {
            const index = list.value.findIndex((r) => r.id === run.id);
            const next = [...list.value];
            if (index >= 0) next[index] = mergeRun(next[index], run);
            else next.push(run);
            list.value = next.sort(byNewest);
          }
          if (currentId.value === run.id) {
            current.value = mergeRun(current.value ?? undefined, run);
            currentMissing.value = false;
          }
          return;
        }
        case 'run.events': {
          const mine = event.events.filter((step) => step.runId === currentId.value);
          if (mine.length > 0) events.value = mergeEvents(events.value, mine);
          return;
        }
        case 'device.status':
        case 'device.updated':
        case 'telemetry':
        case 'usage':
        case 'device.agents':
        case 'rollout':
        case 'device.update':
        case 'conversation.message':
        case 'alert':
          return;
      }
    }

    function reset(): void {
      listRequest += 1;
      filter.value = null;
      list.value = [];
      listLoading.value = false;
      listError.value = null;
      hasMore.value = false;
      clearRun();
    }

    return {
      filter,
      list,
      listLoading,
      listError,
      hasMore,
      currentId,
      current,
      events,
      currentLoading,
      currentError,
      currentMissing,
      isLive,
      loadList,
      loadMore,
      loadRun,
      clearRun,
      applyLiveEvent,
      reset,
    };
  },
  {
    plumbing: {
      reset: (store) => store.reset(),
      live: {
        run: (store, event) => store.applyLiveEvent(event),
        'run.events': (store, event) => store.applyLiveEvent(event),
      },
      reconnected: async (store) => {
        await Promise.all([
          store.currentId !== null ? store.loadRun(store.currentId) : undefined,
          store.filter !== null ? store.loadList(store.filter) : undefined,
        ]);
      },
    },
  },
);
