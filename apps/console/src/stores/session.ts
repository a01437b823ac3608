import type { Pinia } from 'pinia';
import { useAgentsStore } from './agents';
import { useApiKeysStore } from './api-keys';
import { useAuditStore } from './audit';
import { useDeviceAgentsStore } from './device-agents';
import { useDeviceUpdatesStore } from './device-updates';
import { useDevicesStore } from './devices';
import { useProvidersStore } from './providers';
import { useReleasesStore } from './releases';
import { useRolloutsStore } from './rollouts';
import { useRunsStore } from './runs';
import { useTelemetryStore } from './telemetry';
import { useUsageStore } from './usage';

/** Forgets everything the signed-in user loaded, so the next user starts clean. */
export function resetSessionStores(pinia?: Pinia): void {
  useDevicesStore(pinia).reset();
  useTelemetryStore(pinia).clear();
  useProvidersStore(pinia).reset();
  useAgentsStore(pinia).reset();
  useRunsStore(pinia).reset();
  useUsageStore(pinia).reset();
  useDeviceAgentsStore(pinia).clear();
  useReleasesStore(pinia).reset();
  useRolloutsStore(pinia).reset();
  useDeviceUpdatesStore(pinia).clear();
  useApiKeysStore(pinia).reset();
  useAuditStore(pinia).reset();
}
