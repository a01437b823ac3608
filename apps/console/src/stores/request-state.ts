import { ref, shallowRef } from 'vue';

/**
 * `loaded`/`loading`/`error` of a store's list fetch. The refs are meant to be returned from the setup
 * store, so they stay its state.
 */
export function useFetchState() {
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<unknown>(null);

  /** Runs the fetch with `loading` on; the error is kept for the page and rethrown to the caller. */
  async function track(fetch: () => Promise<void>): Promise<void> {
    loading.value = true;
    try {
      await fetch();
      loaded.value = true;
      error.value = null;
    } catch (caught) {
      error.value = caught;
      throw caught;
    } finally {
      loading.value = false;
    }
  }

  /** Back to never loaded, for the next user. */
  function forget(): void {
    loaded.value = false;
    error.value = null;
  }

  return { loaded, loading, error, track, forget };
}

/**
 * `loading`/`error` of a fetch that is restarted with other arguments (another box, range or stacking):
 * only the newest request may write the store, so a slow older answer never overwrites a newer one.
 */
export function useLatestRequest() {
  const loading = ref(false);
  const error = ref<unknown>(null);
  let request = 0;

  /** Fetches, then applies the result unless a newer request started meanwhile; errors are rethrown either way. */
  async function latest<T>(fetch: () => Promise<T>, apply: (result: T) => void): Promise<void> {
    const mine = ++request;
    const stale = () => mine !== request;
    loading.value = true;
    try {
      const result = await fetch();
      if (stale()) return;
      apply(result);
      error.value = null;
    } catch (caught) {
      if (!stale()) error.value = caught;
      throw caught;
    } finally {
      if (!stale()) loading.value = false;
    }
  }

  /** Forgets the request in flight (its answer will be dropped) and clears `loading` and `error`. */
  function abandon(): void {
    request += 1;
    loading.value = false;
    error.value = null;
  }

  return { loading, error, latest, abandon };
}

/**
 * Items of a store's list by id (`byId` is meant to be returned from the setup store as its state); every
 * change replaces the record, so computed lists over it update.
 */
export function useById<T extends { id: string }>() {
  const byId = ref<Record<string, T>>({});

  function get(id: string): T | undefined {
    return byId.value[id];
  }

  function upsert(item: T): void {
    byId.value = { ...byId.value, [item.id]: item };
  }

  function drop(id: string): void {
    const { [id]: _gone, ...rest } = byId.value;
    byId.value = rest;
  }

  function replaceAll(items: readonly T[]): void {
    byId.value = Object.fromEntries(items.map((item) => [item.id, item]));
  }

  function clear(): void {
    byId.value = {};
  }

  return { byId, get, upsert, drop, replaceAll, clear };
}

/** Newest first, as the fleet service lists them; the id breaks ties so the order is stable. */
export function newestFirst<T extends { id: string; createdAt: string }>(items: Record<string, T>): T[] {
  return Object.values(items).sort(
    (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || a.id.localeCompare(b.id),
  );
}

/**
 * The list of one box (its agents, its update history) for the box on screen: a list of another box is
 * never shown while the new one loads, and only the newest request writes it. The refs are meant to be
 * returned from the setup store.
 */
export function useDeviceList<T>(fetch: (deviceId: string) => Promise<T[]>) {
  const deviceId = ref<string | null>(null);
  const items = shallowRef<T[]>([]);
  const loaded = ref(false);
  const { loading, error, latest, abandon } = useLatestRequest();

  async function load(id: string): Promise<void> {
    if (deviceId.value !== id) {
      items.value = [];
      loaded.value = false;
    }
    deviceId.value = id;
    await latest(
      () => fetch(id),
      (list) => {
        items.value = list;
        loaded.value = true;
      },
    );
  }

  function clear(): void {
    abandon();
    deviceId.value = null;
    items.value = [];
    loaded.value = false;
  }

  return { deviceId, items, loaded, loading, error, load, clear };
}
