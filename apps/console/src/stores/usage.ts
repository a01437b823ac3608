import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type { UsageSeriesPage, UsageSummary } from '@/api/types';
import { useLatestRequest } from '@/stores/request-state';

export const USAGE_RANGES = {
  '24h': { ms: 24 * 3_600_000, bucket: 'hour' },
  '7d': { ms: 7 * 86_400_000, bucket: 'day' },
  '30d': { ms: 30 * 86_400_000, bucket: 'day' },
} as const;
export type UsageRange = keyof typeof USAGE_RANGES;
export const USAGE_STACKS = ['agent', 'model', 'device'] as const;
export type UsageStack = (typeof USAGE_STACKS)[number];

/** New usage arrives in bursts (one record per model call): refetch at most this often. */
export const LIVE_REFRESH_MS = 2_000;

const tokens = (counts: { inputTokens: number; outputTokens: number }) =>
  counts.inputTokens + counts.outputTokens;

/** The fleet's token consumption: headline figures and the series of the dashboard chart. */
export const useUsageStore = defineStore(
  'usage',
  () => {
    const range = ref<UsageRange>('7d');
    const stackBy = ref<UsageStack>('agent');
    const summary = ref<UsageSummary | null>(null);
    const series = shallowRef<UsageSeriesPage | null>(null);
    const { loading, error, latest, abandon } = useLatestRequest();
    const liveUpdates = ref(0);
    let timer: ReturnType<typeof setTimeout> | null = null;

    const bucket = computed(() => USAGE_RANGES[range.value].bucket);
    const today = computed(() => (summary.value ? tokens(summary.value.today) : 0));
    const week = computed(() => (summary.value ? tokens(summary.value.week) : 0));
    const budgetPerDay = computed(() => summary.value?.budgetPerDay ?? 0);
    /** Share of today's budget used, 0..n (above 1 when over budget); null without a budget. */
    const budgetUsed = computed(() => (budgetPerDay.value > 0 ? today.value / budgetPerDay.value : null));
    const rangeTotal = computed(() => (series.value ? tokens(series.value.totals) : 0));
    const hasUsage = computed(() => week.value > 0 || rangeTotal.value > 0);

    async function load(
      next: { range?: UsageRange; stackBy?: UsageStack } = {},
      now = Date.now(),
    ): Promise<void> {
      if (next.range) range.value = next.range;
      if (next.stackBy) stackBy.value = next.stackBy;
      const { ms, bucket: size } = USAGE_RANGES[range.value];
      // A newer load (other range or stacking) may start meanwhile: its answer wins.
      await latest(
        () =>
          Promise.all([
            unwrap(api().GET('/api/v1/usage/summary')),
            unwrap(
              api().GET('/api/v1/usage', {
                params: {
                  query: {
                    from: new Date(now - ms).toISOString(),
                    to: new Date(now).toISOString(),
                    bucket: size,
                    groupBy: stackBy.value,
                  },
                },
              }),
            ),
          ]),
        ([nextSummary, nextSeries]) => {
          summary.value = nextSummary;
          series.value = nextSeries;
        },
      );
    }

    /** New usage records: refetch soon (the server buckets and groups them), once per burst. */
    function applyLiveEvent(event: LiveEvent, delayMs = LIVE_REFRESH_MS): void {
      if (event.type !== 'usage' || event.records.length === 0) return;
      liveUpdates.value += 1;
      if (timer !== null || summary.value === null) return;
      timer = setTimeout(() => {
        timer = null;
        load().catch(() => undefined);
      }, delayMs);
    }

    function reset(): void {
      abandon();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      summary.value = null;
      series.value = null;
    }

    return {
      range,
      stackBy,
      summary,
      series,
      loading,
      error,
      liveUpdates,
      bucket,
      today,
      week,
      budgetPerDay,
      budgetUsed,
      rangeTotal,
      hasUsage,
      load,
      applyLiveEvent,
      reset,
    };
  },
  {
    plumbing: {
      reset: (store) => store.reset(),
      live: { usage: (store, event) => store.applyLiveEvent(event) },
      reconnected: async (store) => {
        if (store.summary !== null) await store.load();
      },
    },
  },
);
