import { onScopeDispose, watch } from 'vue';
import { api } from '@/api/client';
import { unwrap } from '@/api/errors';
import { LiveStream } from '@/api/live-stream';
import { useAuthStore } from '@/stores/auth';
import { useLiveStore } from '@/stores/live';
import { sessionStores } from '@/stores/session';
import { dispatchLiveEvent, refreshAfterReconnect } from '@/stores/store-plumbing';
import { createRateLimitedLogger } from '@/utils/rate-limited-log';

const warn = createRateLimitedLogger(10_000);

/**
 * Opens the live stream while someone is signed in and hands each event to the stores that declared a
 * handler for its type (their `plumbing` option).
 */
export function useLiveUpdates(): void {
  const auth = useAuthStore();
  const live = useLiveStore();
  const stores = sessionStores();

  const stream = new LiveStream({
    url: async () => {
      if (!auth.currentToken()) return null;
      // EventSource cannot send the Authorization header: a one-minute ticket goes in the URL instead.
      const { ticket } = await unwrap(api().POST('/api/v1/auth/stream-ticket', {}));
      return `/api/v1/live?ticket=${encodeURIComponent(ticket)}`;
    },
    onEvent: (event) => {
      live.recordEvent();
      dispatchLiveEvent(stores, event, (store, error) =>
        warn(`live ${event.type} event could not be applied to ${store.$id}`, error),
      );
    },
    onInvalid: (reason) => {
      live.recordInvalid();
      warn(`invalid live event (${live.invalidEvents} so far)`, reason);
    },
    onState: (state) => live.setState(state),
    onReconnected: () => {
      live.recordReconnect();
      refreshAfterReconnect(stores, (store, error) =>
        warn(`${store.$id} refetch after reconnect failed`, error),
      );
    },
    onRepeatedFailure: () => {
      // EventSource hides the HTTP status; an expired token shows up as a 401 here and logs out.
      auth.fetchMe().catch((error: unknown) => warn('live stream keeps failing', error));
    },
  });

  const stop = watch(
    () => auth.isAuthenticated,
    (signedIn) => {
      if (signedIn) stream.start();
      else stream.stop();
    },
    { immediate: true },
  );

  onScopeDispose(() => {
    stop();
    stream.stop();
  });
}
