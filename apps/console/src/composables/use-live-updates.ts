import { onScopeDispose, watch } from 'vue';
import { LiveStream } from '@/api/live-stream';
import { useAuthStore } from '@/stores/auth';
import { useDevicesStore } from '@/stores/devices';
import { useLiveStore } from '@/stores/live';
import { useTelemetryStore } from '@/stores/telemetry';
import { createRateLimitedLogger } from '@/utils/rate-limited-log';

const warn = createRateLimitedLogger(10_000);

/** Opens the live stream while someone is signed in and feeds it into the stores. */
export function useLiveUpdates(): void {
  const auth = useAuthStore();
  const devices = useDevicesStore();
  const telemetry = useTelemetryStore();
  const live = useLiveStore();

  const stream = new LiveStream({
    url: () => {
      const token = auth.currentToken();
      return token ? `/api/v1/live?access_token=${encodeURIComponent(token)}` : null;
    },
    onEvent: (event) => {
      live.recordEvent();
      if (event.type === 'telemetry') telemetry.appendLive(event.deviceId, event.samples);
      devices.applyLiveEvent(event).catch((error: unknown) => warn('live event could not be applied', error));
    },
    onInvalid: (reason) => {
      live.recordInvalid();
      warn(`invalid live event (${live.invalidEvents} so far)`, reason);
    },
    onState: (state) => live.setState(state),
    onReconnected: () => {
      live.recordReconnect();
      // Whatever happened while the stream was down was missed: take the whole picture again.
      devices.fetchAll().catch((error: unknown) => warn('refetch after reconnect failed', error));
      if (telemetry.deviceId !== null) {
        telemetry.load(telemetry.deviceId).catch((error: unknown) => warn('telemetry refetch failed', error));
      }
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
