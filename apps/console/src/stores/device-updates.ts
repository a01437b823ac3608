import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { useDeviceList } from '@/stores/request-state';

/** The update history of the box being looked at, newest report first. */
export const useDeviceUpdatesStore = defineStore(
  'device-updates',
  () => {
    const { deviceId, items, loaded, loading, error, load, clear } = useDeviceList((id) =>
      unwrap(api().GET('/api/v1/devices/{id}/updates', { params: { path: { id } } })),
    );

    async function applyLiveEvent(event: LiveEvent): Promise<void> {
      if (event.type !== 'device.update' || event.deviceId !== deviceId.value) return;
      await load(event.deviceId);
    }

    return { deviceId, items, loaded, loading, error, load, applyLiveEvent, clear };
  },
  {
    plumbing: {
      reset: (store) => store.clear(),
      live: { 'device.update': (store, event) => store.applyLiveEvent(event) },
      reconnected: async (store) => {
        if (store.deviceId !== null) await store.load(store.deviceId);
      },
    },
  },
);
