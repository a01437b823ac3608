import type { LiveEvent } from '@agentbox/schemas';
import type { PiniaPluginContext, StateTree, StoreGeneric } from 'pinia';

export type LiveEventType = LiveEvent['type'];
export type LiveEventOf<T extends LiveEventType> = Extract<LiveEvent, { type: T }>;

/**
 * What a store declares, as the `plumbing` option of its `defineStore`, so the session and the live
 * stream reach it without anyone naming it. Each hook gets the store itself.
 */
export interface StorePlumbing<Store> {
  /** Forgets what the signed-in user loaded, so the next user starts clean. */
  reset?: (store: Store) => void;
  /** The live events the store takes, by type; a returned promise is the refetch the event caused. */
  live?: { [T in LiveEventType]?: (store: Store, event: LiveEventOf<T>) => void | Promise<void> };
  /** Takes again whatever is on screen once the live stream is back: events were missed meanwhile. */
  reconnected?: (store: Store) => void | Promise<void>;
}

declare module 'pinia' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- an augmentation repeats Pinia's parameters
  export interface DefineStoreOptionsBase<S extends StateTree, Store> {
    plumbing?: StorePlumbing<Store>;
  }
}

type AnyPlumbing = StorePlumbing<StoreGeneric>;
type LiveHandler = (store: StoreGeneric, event: LiveEvent) => void | Promise<void>;

const declared = new WeakMap<StoreGeneric, AnyPlumbing>();

/** The Pinia plugin that keeps each store's declared plumbing for the functions below. */
export function storePlumbing({ store, options }: PiniaPluginContext): void {
  if (options.plumbing) declared.set(store, options.plumbing);
}

/** Reports a hook that failed; `store` says whose. */
export type PlumbingFailure = (store: StoreGeneric, error: unknown) => void;

/** Runs one hook; a throw or a rejection goes to `failed` instead of stopping the other stores. */
function run(store: StoreGeneric, hook: () => void | Promise<void>, failed: PlumbingFailure): void {
  try {
    hook()?.catch((error: unknown) => failed(store, error));
  } catch (error) {
    failed(store, error);
  }
}

export function resetStores(stores: readonly StoreGeneric[]): void {
  for (const store of stores) declared.get(store)?.reset?.(store);
}

/** Hands the event to every store that declared a handler for its type. */
export function dispatchLiveEvent(
  stores: readonly StoreGeneric[],
  event: LiveEvent,
  failed: PlumbingFailure,
): void {
  for (const store of stores) {
    const handle = declared.get(store)?.live?.[event.type] as LiveHandler | undefined;
    if (handle) run(store, () => handle(store, event), failed);
  }
}

export function refreshAfterReconnect(stores: readonly StoreGeneric[], failed: PlumbingFailure): void {
  for (const store of stores) {
    const refresh = declared.get(store)?.reconnected;
    if (refresh) run(store, () => refresh(store), failed);
  }
}
