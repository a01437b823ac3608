import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { useDeviceList } from '@/stores/request-state';

/** The agents of the box on screen: what it should run and what it reports, kept live. */
export const useDeviceAgentsStore = defineStore(
  'device-agents',
  () => {
    const { deviceId, items, loaded, loading, error, load, clear } = useDeviceList((id) =>
      unwrap(api().GET('/api/v1/devices/{id}/agents', { params: { path: { id } } })),
    );

    const sorted = computed(() => [...items.value].sort((a, b) => a.name.localeCompare(b.name)));
    const tokensToday = computed(() =>
      items.value.reduce((sum, item) => sum + (item.reported?.tokensToday ?? 0), 0),
    );
    const troubled = computed(() =>
      items.value.filter((item) =>
        ['crash-looping', 'budget-exhausted', 'error'].includes(item.reported?.status ?? ''),
      ),
    );

    /** The box reported new agent states, or one of its runs changed: take its list again. */
    async function applyLiveEvent(event: LiveEvent): Promise<void> {
      if (event.type !== 'device.agents' && event.type !== 'run') return;
      if (deviceId.value === null || event.deviceId !== deviceId.value) return;
      await load(deviceId.value);
    }

    return {
      deviceId,
      items,
      loaded,
      loading,
      error,
      sorted,
      tokensToday,
      troubled,
      load,
      applyLiveEvent,
      clear,
    };
  },
  {
    plumbing: {
      reset: (store) => store.clear(),
      live: {
        'device.agents': (store, event) => store.applyLiveEvent(event),
        run: (store, event) => store.applyLiveEvent(event),
      },
      reconnected: async (store) => {
        if (store.deviceId !== null) await store.load(store.deviceId);
      },
    },
  },
);
