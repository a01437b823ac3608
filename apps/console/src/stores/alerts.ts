import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import type {
  Alert,
  AlertRule,
  AlertRuleCreateBody,
  AlertRuleUpdateBody,
  ChannelCreateBody,
  ChannelDelivery,
  DeliveryOutcome,
  NotificationChannel,
  SilenceCreateBody,
} from '@/api/types';
import { useFetchState } from '@/stores/request-state';

/**
 * Alerts, alert rules and notification channels. `firingCount` feeds the header's bell: set from the
 * list, then kept current by the live stream's `alert` events.
 */
export const useAlertsStore = defineStore(
  'alerts',
  () => {
    const alerts = ref<Alert[]>([]);
    const rules = ref<AlertRule[]>([]);
    const channels = ref<NotificationChannel[]>([]);
    const firingCount = ref<number | null>(null);
    /** The latest deliveries of each channel, newest first. */
    const deliveries = ref<Record<string, ChannelDelivery[]>>({});
    const { loaded, loading, error, track, forget } = useFetchState();

    const firing = computed(() => alerts.value.filter((alert) => alert.state === 'firing'));
    const resolved = computed(() => alerts.value.filter((alert) => alert.state === 'resolved'));

    async function fetchAll(): Promise<void> {
      await track(async () => {
        const [list, ruleList, channelList] = await Promise.all([
          unwrap(api().GET('/api/v1/alerts', { params: { query: {} } })),
          unwrap(api().GET('/api/v1/alert-rules')),
          unwrap(api().GET('/api/v1/notification-channels')),
        ]);
        alerts.value = list.items;
        rules.value = ruleList;
        channels.value = channelList;
        firingCount.value = list.items.filter((alert) => alert.state === 'firing').length;
      });
    }

    async function fetchFiringCount(): Promise<void> {
      const list = await unwrap(api().GET('/api/v1/alerts', { params: { query: { state: 'firing' } } }));
      firingCount.value = list.items.length;
    }

    async function createRule(body: AlertRuleCreateBody): Promise<void> {
      await unwrap(api().POST('/api/v1/alert-rules', { body }));
      rules.value = await unwrap(api().GET('/api/v1/alert-rules'));
    }

    async function updateRule(id: string, body: AlertRuleUpdateBody): Promise<void> {
      const rule = await unwrap(api().PATCH('/api/v1/alert-rules/{id}', { params: { path: { id } }, body }));
      rules.value = rules.value.map((r) => (r.id === id ? rule : r));
    }

    async function removeRule(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/alert-rules/{id}', { params: { path: { id } } }));
      rules.value = rules.value.filter((r) => r.id !== id);
    }

    async function createChannel(body: ChannelCreateBody): Promise<string> {
      const { id } = await unwrap(api().POST('/api/v1/notification-channels', { body }));
      channels.value = await unwrap(api().GET('/api/v1/notification-channels'));
      return id;
    }

    async function removeChannel(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/notification-channels/{id}', { params: { path: { id } } }));
      channels.value = channels.value.filter((c) => c.id !== id);
    }

    async function testChannel(id: string): Promise<DeliveryOutcome> {
      const outcome = await unwrap(
        api().POST('/api/v1/notification-channels/{id}/test', { params: { path: { id } } }),
      );
      await fetchDeliveries(id).catch(() => undefined);
      return outcome;
    }

    async function fetchDeliveries(id: string): Promise<void> {
      const page = await unwrap(
        api().GET('/api/v1/notification-channels/{id}/deliveries', { params: { path: { id } } }),
      );
      deliveries.value = { ...deliveries.value, [id]: page.items };
    }

    async function silence(body: SilenceCreateBody): Promise<void> {
      await unwrap(api().POST('/api/v1/silences', { body }));
      await fetchAll();
    }

    function reset(): void {
      alerts.value = [];
      rules.value = [];
      channels.value = [];
      firingCount.value = null;
      deliveries.value = {};
      forget();
    }

    return {
      alerts,
      rules,
      channels,
      firing,
      resolved,
      firingCount,
      deliveries,
      fetchDeliveries,
      loaded,
      loading,
      error,
      fetchAll,
      fetchFiringCount,
      createRule,
      updateRule,
      removeRule,
      createChannel,
      removeChannel,
      testChannel,
      silence,
      reset,
    };
  },
  {
    plumbing: {
      reset: (store) => store.reset(),
      live: {
        alert: (store, event) => {
          store.firingCount = event.firing;
          // The list on screen follows; nothing is fetched for a page nobody opened.
          return store.loaded ? store.fetchAll() : undefined;
        },
      },
      // Only what is on screen: the list, or the bell's count once the bell has fetched it.
      reconnected: (store) =>
        store.loaded ? store.fetchAll() : store.firingCount !== null ? store.fetchFiringCount() : undefined,
    },
  },
);
