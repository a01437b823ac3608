import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { DeviceUpdate } from '@/api/ota-types';
import { useLatestRequest } from '@/stores/request-state';

/** The update history of the box being looked at, newest report first. */
export const useDeviceUpdatesStore = defineStore(
  'device-updates',
  () => {
    const deviceId = ref<string | null>(null);
    const items = ref<DeviceUpdate[]>([]);
    const loaded = ref(false);
    const { loading, error, latest, abandon } = useLatestRequest();

    async function load(id: string): Promise<void> {
      if (deviceId.value !== id) {
        items.value = [];
        loaded.value = false;
      }
      deviceId.value = id;
      await latest(
        () => unwrap(api().GET('/api/v1/devices/{id}/updates', { params: { path: { id } } })),
        (list) => {
          items.value = list;
          loaded.value = true;
        },
      );
    }

    async function applyLiveEvent(event: LiveEvent): Promise<void> {
      if (event.type !== 'device.update' || event.deviceId !== deviceId.value) return;
      await load(event.deviceId);
    }

    function clear(): void {
      abandon();
      deviceId.value = null;
      items.value = [];
      loaded.value = false;
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
