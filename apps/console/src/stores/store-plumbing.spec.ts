import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { ref } from 'vue';
import { activeTestPinia } from '@/testing/pinia';
import { dispatchLiveEvent, refreshAfterReconnect, resetStores } from './store-plumbing';

const useBoxStore = defineStore(
  'plumbing-box',
  () => {
    const seen = ref<string[]>([]);
    const refreshes = ref(0);
    return { seen, refreshes };
  },
  {
    plumbing: {
      reset: (store) => (store.seen = []),
      live: {
        'device.status': (store, event) => void store.seen.push(`status ${event.deviceId}`),
        'device.updated': async (store, event) => {
          await Promise.resolve();
          store.seen.push(`updated ${event.deviceId}`);
        },
      },
      reconnected: (store) => void (store.refreshes += 1),
    },
  },
);

const useFailingStore = defineStore('plumbing-failing', () => ({ tries: ref(0) }), {
  plumbing: {
    live: {
      'device.status': (store) => {
        store.tries += 1;
        throw new Error('broken handler');
      },
      'device.updated': (store) => {
        store.tries += 1;
        return Promise.reject(new Error('refetch refused'));
      },
    },
    reconnected: () => Promise.reject(new Error('offline')),
  },
});

const usePlainStore = defineStore('plumbing-plain', () => ({ items: ref(['kept']) }));

const status: LiveEvent = { type: 'device.status', deviceId: 'b1', online: true, lastSeenAt: null };
const updated: LiveEvent = { type: 'device.updated', deviceId: 'b2' };

describe('store plumbing', () => {
  let failures: string[];
  const failed = (store: { $id: string }, error: unknown) =>
    failures.push(`${store.$id}: ${(error as Error).message}`);

  beforeEach(() => {
    activeTestPinia({ plumbing: true });
    failures = [];
  });

  const stores = () => [useBoxStore(), useFailingStore(), usePlainStore()];

  it('runs the reset each store declared and leaves stores without one alone', () => {
    const box = useBoxStore();
    box.seen = ['before'];
    const plain = usePlainStore();

    resetStores(stores());

    expect(box.seen).toEqual([]);
    expect(plain.items).toEqual(['kept']);
  });

  it('hands a live event to the stores that declared its type, and only to them', async () => {
    const sut = useBoxStore();

    dispatchLiveEvent(stores(), status, failed);
    expect(sut.seen).toEqual(['status b1']);

    dispatchLiveEvent(stores(), { type: 'telemetry', deviceId: 'b1', samples: [] }, failed);
    dispatchLiveEvent(stores(), updated, failed);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(sut.seen).toEqual(['status b1', 'updated b2']);
  });

  it('reports a handler that throws or rejects without keeping the event from the others', async () => {
    const box = useBoxStore();
    const failing = useFailingStore();

    dispatchLiveEvent([failing, box], status, failed);
    dispatchLiveEvent([failing, box], updated, failed);
    await new Promise((resolve) => setTimeout(resolve, 0));

    expect(failing.tries).toBe(2);
    expect(box.seen).toEqual(['status b1', 'updated b2']);
    expect(failures).toEqual(['plumbing-failing: broken handler', 'plumbing-failing: refetch refused']);
  });

  it('runs every declared refresh after a reconnect', async () => {
    const box = useBoxStore();

    refreshAfterReconnect(stores(), failed);
    await new Promise((resolve) => setTimeout(resolve, 0));

    expect(box.refreshes).toBe(1);
    expect(failures).toEqual(['plumbing-failing: offline']);
  });

  it('knows nothing of a store whose pinia lacks the plugin', () => {
    activeTestPinia({ plumbing: false });
    const box = useBoxStore();

    dispatchLiveEvent([box], status, failed);
    box.seen = ['kept'];
    resetStores([box]);

    expect(box.seen).toEqual(['kept']);
  });
});
