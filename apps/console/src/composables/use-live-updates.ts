import { onScopeDispose, watch } from 'vue';
import { LiveStream } from '@/api/live-stream';
import { useAuthStore } from '@/stores/auth';
import { useDeviceAgentsStore } from '@/stores/device-agents';
import { useDeviceUpdatesStore } from '@/stores/device-updates';
import { useDevicesStore } from '@/stores/devices';
import { useLiveStore } from '@/stores/live';
import { useRolloutsStore } from '@/stores/rollouts';
import { useRunsStore } from '@/stores/runs';
import { useTelemetryStore } from '@/stores/telemetry';
import { useUsageStore } from '@/stores/usage';
import { createRateLimitedLogger } from '@/utils/rate-limited-log';

const warn = createRateLimitedLogger(10_000);

/** Opens the live stream while someone is signed in and feeds it into the stores. */
export function useLiveUpdates(): void {
  const auth = useAuthStore();
  const devices = useDevicesStore();
  const telemetry = useTelemetryStore();
  const live = useLiveStore();
  const runs = useRunsStore();
  const usage = useUsageStore();
  const deviceAgents = useDeviceAgentsStore();
  const rollouts = useRolloutsStore();
  const deviceUpdates = useDeviceUpdatesStore();

  const stream = new LiveStream({
    url: () => {
      const token = auth.currentToken();
      return token ? `/api/v1/live?access_token=${encodeURIComponent(token)}` : null;
    },
    onEvent: (event) => {
      live.recordEvent();
      switch (event.type) {
        case 'telemetry':
          telemetry.appendLive(event.deviceId, event.samples);
          break;
        case 'run':
        case 'run.events':
          runs.applyLiveEvent(event);
          break;
        case 'usage':
          usage.applyLiveEvent(event);
          break;
        case 'rollout':
          rollouts.applyLiveEvent(event).catch((error: unknown) => warn('rollout refetch failed', error));
          break;
        case 'device.update':
          deviceUpdates
            .applyLiveEvent(event)
            .catch((error: unknown) => warn('box update history refetch failed', error));
          break;
        case 'device.status':
        case 'device.updated':
        case 'device.agents':
          break;
      }
      devices.applyLiveEvent(event).catch((error: unknown) => warn('live event could not be applied', error));
      deviceAgents
        .applyLiveEvent(event)
        .catch((error: unknown) => warn('box agents could not be refetched', error));
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
      if (deviceAgents.deviceId !== null) {
        deviceAgents
          .load(deviceAgents.deviceId)
          .catch((error: unknown) => warn('box agents refetch failed', error));
      }
      if (runs.currentId !== null) runs.loadRun(runs.currentId).catch(() => undefined);
      if (runs.filter !== null) {
        runs.loadList(runs.filter).catch((error: unknown) => warn('runs refetch failed', error));
      }
      rollouts.refetch().catch((error: unknown) => warn('rollouts refetch failed', error));
      if (deviceUpdates.deviceId !== null) {
        deviceUpdates
          .load(deviceUpdates.deviceId)
          .catch((error: unknown) => warn('box update history refetch failed', error));
      }
      if (usage.summary !== null) {
        usage.load().catch((error: unknown) => warn('usage refetch failed', error));
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
