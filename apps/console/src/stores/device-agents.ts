import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { DeviceAgent } from '@/api/types';

/** The agents of the box on screen: what it should run and what it reports, kept live. */
export const useDeviceAgentsStore = defineStore('device-agents', () => {
  const deviceId = ref<string | null>(null);
  const items = shallowRef<DeviceAgent[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<unknown>(null);
  let request = 0;

  const sorted = computed(() => [...items.value].sort((a, b) => a.name.localeCompare(b.name)));
  const tokensToday = computed(() =>
    items.value.reduce((sum, item) => sum + (item.reported?.tokensToday ?? 0), 0),
  );
  const troubled = computed(() =>
    items.value.filter((item) =>
      ['crash-looping', 'budget-exhausted', 'error'].includes(item.reported?.status ?? ''),
    ),
  );

  async function load(id: string): Promise<void> {
    const mine = ++request;
    if (deviceId.value !== id) {
      items.value = [];
      loaded.value = false;
    }
    deviceId.value = id;
    loading.value = true;
    try {
      const list = await unwrap(api().GET('/api/v1/devices/{id}/agents', { params: { path: { id } } }));
      if (mine !== request) return;
      items.value = list;
      loaded.value = true;
      error.value = null;
    } catch (caught) {
      if (mine === request) error.value = caught;
      throw caught;
    } finally {
      if (mine === request) loading.value = false;
    }
  }

  /** The box reported new agent states, or one of its runs changed: take its list again. */
  async function applyLiveEvent(event: LiveEvent): Promise<void> {
    if (deviceId.value === null || event.deviceId !== deviceId.value) return;
    if (event.type === 'device.agents' || event.type === 'run') await load(deviceId.value);
  }

  function clear(): void {
    request += 1;
    deviceId.value = null;
    items.value = [];
    loaded.value = false;
    loading.value = false;
    error.value = null;
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
});
