import type { LiveEvent } from '@agentbox/schemas';
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '@/api/client';
import { isNotFound, unwrap } from '@/api/errors';
import type {
  ClaimToken,
  ClaimTokenCreateBody,
  Device,
  DeviceDelivery,
  DeviceUpdateBody,
  Enrollment,
} from '@/api/types';
import { useFetchState } from '@/stores/request-state';

export type DeviceSortKey = 'name' | 'status' | 'lastSeen' | 'agentVersion' | 'hostname';
export type SortOrder = 'asc' | 'desc';
export type StatusFilter = 'all' | 'online' | 'offline';

export interface DeviceFilter {
  text: string;
  status: StatusFilter;
  tag: string | null;
}

/** Largest page the fleet service serves on GET /api/v1/devices. */
export const LIST_PAGE = 1000;

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function timeOf(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Sort value of a device for a column; null sorts last whatever the order. */
function sortValue(device: Device, key: DeviceSortKey): string | number | null {
  switch (key) {
    case 'name':
      return device.name;
    case 'status':
      return device.online ? 1 : 0;
    case 'lastSeen':
      return timeOf(device.lastSeenAt);
    case 'agentVersion':
      return device.agentVersion ?? null;
    case 'hostname':
      return device.hardware?.hostname ?? null;
  }
}

export function compareDevices(a: Device, b: Device, key: DeviceSortKey, order: SortOrder): number {
  const va = sortValue(a, key);
  const vb = sortValue(b, key);
  if (va === null && vb !== null) return 1;
  if (vb === null && va !== null) return -1;
  let result = 0;
  if (va !== null && vb !== null) {
    result =
      typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
  }
  if (order === 'desc') result = -result;
  // Stable, predictable ties: by name, then id.
  return result || collator.compare(a.name, b.name) || a.id.localeCompare(b.id);
}

export function matchesFilter(device: Device, filter: DeviceFilter): boolean {
  if (filter.status === 'online' && !device.online) return false;
  if (filter.status === 'offline' && device.online) return false;
  if (filter.tag && !device.tags.includes(filter.tag)) return false;
  const needle = filter.text.trim().toLowerCase();
  if (!needle) return true;
  const haystack = [
    device.name,
    device.id,
    device.hardwareId,
    device.agentVersion ?? '',
    device.hardware?.hostname ?? '',
    ...device.tags,
  ];
  return haystack.some((field) => field.toLowerCase().includes(needle));
}

function laterTime(a: string | null, b: string | null): string | null {
  const ta = timeOf(a);
  const tb = timeOf(b);
  if (ta === null) return b;
  if (tb === null) return a;
  return tb > ta ? b : a;
}

export const useDevicesStore = defineStore(
  'devices',
  () => {
    const byId = ref<Record<string, Device>>({});
    const { loaded, loading, error, track, forget } = useFetchState();
    const filter = ref<DeviceFilter>({ text: '', status: 'all', tag: null });
    const sortKey = ref<DeviceSortKey>('name');
    const sortOrder = ref<SortOrder>('asc');
    /** When a live status last changed each device, so a list fetched before it does not undo it. */
    const liveStatusAt = new Map<string, number>();

    const all = computed(() => Object.values(byId.value));
    const visible = computed(() =>
      all.value
        .filter((device) => matchesFilter(device, filter.value))
        .sort((a, b) => compareDevices(a, b, sortKey.value, sortOrder.value)),
    );
    const counts = computed(() => {
      const online = all.value.filter((device) => device.online).length;
      return { total: all.value.length, online, offline: all.value.length - online };
    });
    const allTags = computed(() =>
      [...new Set(all.value.flatMap((device) => device.tags))].sort(collator.compare),
    );
    const isFiltered = computed(
      () => filter.value.text.trim() !== '' || filter.value.status !== 'all' || filter.value.tag !== null,
    );

    function get(id: string): Device | undefined {
      return byId.value[id];
    }

    function upsert(device: Device): void {
      byId.value[device.id] = device;
    }

    function remove(id: string): void {
      delete byId.value[id];
    }

    /** The list endpoint pages (at most LIST_PAGE per call); walk it in a stable order. */
    async function fetchEveryPage(): Promise<Device[]> {
      const items: Device[] = [];
      for (let offset = 0; ; offset += LIST_PAGE) {
        const page = await unwrap(
          api().GET('/api/v1/devices', {
            params: { query: { limit: LIST_PAGE, offset, sort: 'createdAt', order: 'asc' } },
          }),
        );
        items.push(...page.items);
        if (page.items.length < LIST_PAGE || items.length >= page.total) return items;
      }
    }

    async function fetchAll(): Promise<void> {
      const startedAt = Date.now();
      await track(async () => {
        const items = await fetchEveryPage();
        const next: Record<string, Device> = {};
        for (const device of items) {
          const current = byId.value[device.id];
          const liveAt = liveStatusAt.get(device.id);
          next[device.id] =
            current && liveAt !== undefined && liveAt >= startedAt
              ? {
                  ...device,
                  online: current.online,
                  lastSeenAt: laterTime(current.lastSeenAt, device.lastSeenAt),
                }
              : device;
        }
        byId.value = next;
      });
    }

    /** Fetches one device into the store; resolves to null when the fleet service does not know it. */
    async function fetchOne(id: string): Promise<Device | null> {
      try {
        const device = await unwrap(api().GET('/api/v1/devices/{id}', { params: { path: { id } } }));
        upsert(device);
        return device;
      } catch (caught) {
        if (isNotFound(caught)) {
          remove(id);
          return null;
        }
        throw caught;
      }
    }

    /** Spool records of the box that never reached storage, beside its own spool drops (docs/operations.md). */
    function fetchDelivery(id: string): Promise<DeviceDelivery> {
      return unwrap(api().GET('/api/v1/devices/{id}/delivery', { params: { path: { id } } }));
    }

    async function update(id: string, patch: DeviceUpdateBody): Promise<Device> {
      const device = await unwrap(
        api().PATCH('/api/v1/devices/{id}', { params: { path: { id } }, body: patch }),
      );
      upsert(device);
      return device;
    }

    /** Deletes the box and revokes its broker access; it must enrol again with a new claim token. */
    async function removeDevice(id: string): Promise<void> {
      await unwrap(api().DELETE('/api/v1/devices/{id}', { params: { path: { id } } }));
      remove(id);
    }

    /**
     * A claim token for new boxes, with where they enrol (falling back to this page's origin when the
     * service cannot say): what the add-box dialog shows once.
     */
    async function createClaimToken(
      body: ClaimTokenCreateBody,
    ): Promise<{ token: ClaimToken; enrollment: Enrollment }> {
      const [token, enrollment] = await Promise.all([
        unwrap(api().POST('/api/v1/claim-tokens', { body })),
        unwrap(api().GET('/api/v1/enrollment')).catch(() => ({
          fleetUrl: window.location.origin,
          mqttUrl: '',
        })),
      ]);
      return { token, enrollment };
    }

    /** Applies one validated live event; resolves once any refetch it caused is done. */
    async function applyLiveEvent(event: LiveEvent): Promise<void> {
      switch (event.type) {
        case 'device.status': {
          const device = byId.value[event.deviceId];
          liveStatusAt.set(event.deviceId, Date.now());
          if (!device) {
            // A box we have not listed yet (just enrolled): fetch it whole.
            await fetchOne(event.deviceId);
            return;
          }
          device.online = event.online;
          device.lastSeenAt = laterTime(device.lastSeenAt, event.lastSeenAt);
          return;
        }
        case 'device.updated':
          await fetchOne(event.deviceId);
          return;
        case 'telemetry': {
          const device = byId.value[event.deviceId];
          if (!device || event.samples.length === 0) return;
          const newest = Math.max(...event.samples.map((sample) => sample.ts));
          device.lastSeenAt = laterTime(device.lastSeenAt, new Date(newest).toISOString());
          return;
        }
        // Agent runtime events change no device fields; their own stores take them.
        case 'run':
        case 'run.events':
        case 'usage':
        case 'device.agents':
        case 'rollout':
        case 'device.update':
        case 'conversation.message':
        case 'alert':
          return;
      }
    }

    function setFilter(patch: Partial<DeviceFilter>): void {
      filter.value = { ...filter.value, ...patch };
    }

    function clearFilter(): void {
      filter.value = { text: '', status: 'all', tag: null };
    }

    function setSort(key: DeviceSortKey, order: SortOrder): void {
      sortKey.value = key;
      sortOrder.value = order;
    }

    function reset(): void {
      byId.value = {};
      forget();
      liveStatusAt.clear();
    }

    return {
      byId,
      loaded,
      loading,
      error,
      filter,
      sortKey,
      sortOrder,
      all,
      visible,
      counts,
      allTags,
      isFiltered,
      get,
      fetchAll,
      fetchOne,
      fetchDelivery,
      update,
      removeDevice,
      createClaimToken,
      applyLiveEvent,
      setFilter,
      clearFilter,
      setSort,
      reset,
    };
  },
  {
    plumbing: {
      reset: (store) => store.reset(),
      live: {
        'device.status': (store, event) => store.applyLiveEvent(event),
        'device.updated': (store, event) => store.applyLiveEvent(event),
        telemetry: (store, event) => store.applyLiveEvent(event),
      },
      // Whatever happened while the stream was down was missed: take the whole picture again.
      reconnected: (store) => store.fetchAll(),
    },
  },
);
