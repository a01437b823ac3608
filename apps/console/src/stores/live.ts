import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { LiveConnectionState } from '@/api/live-stream';

/** State of the live stream, for the header's connection indicator. */
export const useLiveStore = defineStore('live', () => {
  const state = ref<LiveConnectionState>('idle');
  const invalidEvents = ref(0);
  const lastEventAt = ref<number | null>(null);
  const reconnects = ref(0);

  const connected = computed(() => state.value === 'open');

  function setState(next: LiveConnectionState): void {
    state.value = next;
  }

  function recordEvent(at = Date.now()): void {
    lastEventAt.value = at;
  }

  function recordInvalid(): void {
    invalidEvents.value += 1;
  }

  function recordReconnect(): void {
    reconnects.value += 1;
  }

  return {
    state,
    invalidEvents,
    lastEventAt,
    reconnects,
    connected,
    setState,
    recordEvent,
    recordInvalid,
    recordReconnect,
  };
});
