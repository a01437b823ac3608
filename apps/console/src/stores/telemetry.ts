import type { TelemetryResolution, TelemetrySample } from '@agentbox/schemas';
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
  '7d': 7 * 24 * 60 * 60_000,
  '30d': 30 * 24 * 60 * 60_000,
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

/**
 * The chosen range in one request: the fleet answers samples for a few hours and minute or hour rollups
 * (their averages in `values`) for days and weeks (docs/operations.md, "Telemetry rollups").
 */
async function fetchHistory(
  id: string,
  since: number,
): Promise<{ resolution: TelemetryResolution; samples: SampleLike[] }> {
  const result = await unwrap(
    api().GET('/api/v1/devices/{id}/telemetry/series', {
      params: { path: { id }, query: { from: new Date(since).toISOString() } },
    }),
  );
  return {
    resolution: result.resolution,
    samples: result.points.map((point) => ({ ts: point.ts, values: point.values })),
  };
}

/** Telemetry of the device page on screen: history for the chosen range, then live samples appended. */
export const useTelemetryStore = defineStore(
  'telemetry',
  () => {
    const deviceId = ref<string | null>(null);
    // A fresh box has minutes of history: a short window shows it instead of a sliver at the edge.
    const range = ref<TimeRange>('15m');
    const samples = shallowRef<SampleLike[]>([]);
    /** What the history came as: live samples join samples and minutes, not hourly averages. */
    const resolution = ref<TelemetryResolution>('raw');
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
        () => fetchHistory(id, since),
        // Keep live samples that arrived while the history was loading.
        (history) => {
          resolution.value = history.resolution;
          const kept = history.resolution === '1h' ? [] : samples.value;
          samples.value = mergeSamples(kept, history.samples, since);
        },
      );
    }

    function appendLive(id: string, incoming: readonly TelemetrySample[]): void {
      if (id !== deviceId.value || incoming.length === 0 || resolution.value === '1h') return;
      samples.value = mergeSamples(samples.value, incoming, windowStart());
    }

    function clear(): void {
      abandon();
      deviceId.value = null;
      samples.value = [];
    }

    return { deviceId, range, resolution, samples, loading, error, metricNames, load, appendLive, clear };
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
