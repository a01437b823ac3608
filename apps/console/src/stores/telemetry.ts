import type { TelemetrySample } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { useLatestRequest } from '@/stores/request-state';
import type { SampleLike } from '@/utils/metrics';

export const TIME_RANGES = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '6h': 6 * 60 * 60_000,
  '24h': 24 * 60 * 60_000,
} as const;
export type TimeRange = keyof typeof TIME_RANGES;

/** Bound on points kept per device page, so a tab left open for days does not grow without end. */
export const MAX_SAMPLES = 20_000;

/** Merges sample lists by timestamp (a live sample may repeat one the history already had), oldest first. */
export function mergeSamples(
  current: readonly SampleLike[],
  incoming: readonly SampleLike[],
  since: number,
): SampleLike[] {
  const byTs = new Map<number, SampleLike>();
  for (const sample of current) if (sample.ts >= since) byTs.set(sample.ts, sample);
  for (const sample of incoming) {
    if (sample.ts < since) continue;
    const existing = byTs.get(sample.ts);
    byTs.set(
      sample.ts,
      existing ? { ts: sample.ts, values: { ...existing.values, ...sample.values } } : sample,
    );
  }
  const merged = [...byTs.values()].sort((a, b) => a.ts - b.ts);
  return merged.length > MAX_SAMPLES ? merged.slice(merged.length - MAX_SAMPLES) : merged;
}

/** Largest page of GET /api/v1/devices/{id}/telemetry, and how many pages one range may take. */
export const HISTORY_PAGE = 5000;
const HISTORY_MAX_PAGES = Math.ceil(MAX_SAMPLES / HISTORY_PAGE);

/** Samples from `since` on, oldest first, following pages (24 h at a 10 s interval is 8,640 samples). */
async function fetchHistory(id: string, since: number, cancelled: () => boolean): Promise<SampleLike[]> {
  const out: SampleLike[] = [];
  let cursor = since;
  for (let page = 0; page < HISTORY_MAX_PAGES && !cancelled(); page += 1) {
    const result = await unwrap(
      api().GET('/api/v1/devices/{id}/telemetry', {
        params: { path: { id }, query: { since: new Date(cursor).toISOString(), limit: HISTORY_PAGE } },
      }),
    );
    for (const sample of result.samples) out.push({ ts: sample.ts, values: sample.values });
    const last = result.samples.at(-1);
    if (result.samples.length < HISTORY_PAGE || !last) break;
    cursor = last.ts + 1;
  }
  return out;
}

/** Telemetry of the device page on screen: history for the chosen range, then live samples appended. */
export const useTelemetryStore = defineStore(
  'telemetry',
  () => {
    const deviceId = ref<string | null>(null);
    // A fresh box has minutes of history: a short window shows it instead of a sliver at the edge.
    const range = ref<TimeRange>('15m');
    const samples = shallowRef<SampleLike[]>([]);
    const { loading, error, latest, abandon } = useLatestRequest();

    const metricNames = computed(() => {
      const names = new Set<string>();
      for (const sample of samples.value) for (const name of Object.keys(sample.values)) names.add(name);
      return [...names];
    });

    function windowStart(now = Date.now()): number {
      return now - TIME_RANGES[range.value];
    }

    async function load(id: string, nextRange: TimeRange = range.value): Promise<void> {
      if (deviceId.value !== id) samples.value = [];
      deviceId.value = id;
      range.value = nextRange;
      const since = windowStart();
      // A newer load (other device or range) may start meanwhile: its answer wins.
      await latest(
        (stale) => fetchHistory(id, since, stale),
        // Keep live samples that arrived while the history was loading.
        (history) => (samples.value = mergeSamples(samples.value, history, since)),
      );
    }

    function appendLive(id: string, incoming: readonly TelemetrySample[]): void {
      if (id !== deviceId.value || incoming.length === 0) return;
      samples.value = mergeSamples(samples.value, incoming, windowStart());
    }

    function clear(): void {
      abandon();
      deviceId.value = null;
      samples.value = [];
    }

    return { deviceId, range, samples, loading, error, metricNames, load, appendLive, clear };
  },
  {
    plumbing: {
      reset: (store) => store.clear(),
      live: { telemetry: (store, event) => store.appendLive(event.deviceId, event.samples) },
      reconnected: async (store) => {
        if (store.deviceId !== null) await store.load(store.deviceId);
      },
    },
  },
);
