import { isValidDeviceId } from './ids.js';

export const TOPIC_ROOT = 'agentbox/v1/devices';

/** Device-to-cloud channels, published under `{root}/{deviceId}/up/`. */
export const UP_CHANNELS = [
  'birth',
  'status',
  'telemetry',
  'state',
  'events',
  'results',
  'runs',
  'run-events',
  'usage',
  'update',
] as const;
export type UpChannel = (typeof UP_CHANNELS)[number];

/** Cloud-to-device channels, published under `{root}/{deviceId}/down/`. */
export const DOWN_CHANNELS = ['desired', 'commands', 'stored'] as const;
export type DownChannel = (typeof DOWN_CHANNELS)[number];

function deviceRoot(deviceId: string): string {
  if (!isValidDeviceId(deviceId)) {
    throw new RangeError(`invalid device id for a topic: ${JSON.stringify(deviceId)}`);
  }
  return `${TOPIC_ROOT}/${deviceId}`;
}

export const topics = {
  birth: (deviceId: string) => `${deviceRoot(deviceId)}/up/birth`,
  status: (deviceId: string) => `${deviceRoot(deviceId)}/up/status`,
  telemetry: (deviceId: string) => `${deviceRoot(deviceId)}/up/telemetry`,
  state: (deviceId: string) => `${deviceRoot(deviceId)}/up/state`,
  events: (deviceId: string) => `${deviceRoot(deviceId)}/up/events`,
  runs: (deviceId: string) => `${deviceRoot(deviceId)}/up/runs`,
  runEvents: (deviceId: string) => `${deviceRoot(deviceId)}/up/run-events`,
  usage: (deviceId: string) => `${deviceRoot(deviceId)}/up/usage`,
  update: (deviceId: string) => `${deviceRoot(deviceId)}/up/update`,
  result: (deviceId: string, commandId: string) => {
    if (!isValidDeviceId(commandId)) throw new RangeError(`invalid command id: ${JSON.stringify(commandId)}`);
    return `${deviceRoot(deviceId)}/up/results/${commandId}`;
  },
  desired: (deviceId: string) => `${deviceRoot(deviceId)}/down/desired`,
  /** Storage confirmations of what a box sent through its spool (docs/protocol.md, "Acknowledged means stored"). */
  stored: (deviceId: string) => `${deviceRoot(deviceId)}/down/stored`,
  command: (deviceId: string, commandId: string) => {
    if (!isValidDeviceId(commandId)) throw new RangeError(`invalid command id: ${JSON.stringify(commandId)}`);
    return `${deviceRoot(deviceId)}/down/commands/${commandId}`;
  },
  /** Everything a device may publish: its own `up/` subtree. */
  deviceUpFilter: (deviceId: string) => `${deviceRoot(deviceId)}/up/#`,
  /** Everything a device may subscribe to: its own `down/` subtree. */
  deviceDownFilter: (deviceId: string) => `${deviceRoot(deviceId)}/down/#`,
  /** What the cloud subscribes to: every device's `up/` subtree. */
  allUpFilter: () => `${TOPIC_ROOT}/+/up/#`,
  /** Spread one ingest subscription across fleet-service replicas (MQTT 5 shared subscription, MQTT-4.8.2). */
  sharedAllUpFilter: (group = 'fleet') => `$share/${group}/${TOPIC_ROOT}/+/up/#`,
} as const;

export type ParsedTopic =
  | { direction: 'up'; deviceId: string; channel: Exclude<UpChannel, 'results'> }
  | { direction: 'up'; deviceId: string; channel: 'results'; commandId: string }
  | { direction: 'down'; deviceId: string; channel: 'desired' | 'stored' }
  | { direction: 'down'; deviceId: string; channel: 'commands'; commandId: string };

/** Parses a concrete topic name into its parts; returns null for anything outside the layout. */
export function parseTopic(topic: string): ParsedTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const parts = topic.slice(prefix.length).split('/');
  const [deviceId, direction, channel, extra, ...rest] = parts;
  if (deviceId === undefined || !isValidDeviceId(deviceId) || rest.length > 0) return null;
  if (direction === 'up') {
    switch (channel) {
      case 'birth':
      case 'status':
      case 'telemetry':
      case 'state':
      case 'events':
      case 'runs':
      case 'run-events':
      case 'usage':
      case 'update':
        return extra === undefined ? { direction, deviceId, channel } : null;
      case 'results':
        return extra !== undefined && isValidDeviceId(extra)
          ? { direction, deviceId, channel, commandId: extra }
          : null;
      default:
        return null;
    }
  }
  if (direction === 'down') {
    if ((channel === 'desired' || channel === 'stored') && extra === undefined) {
      return { direction, deviceId, channel };
    }
    if (channel === 'commands' && extra !== undefined && isValidDeviceId(extra)) {
      return { direction, deviceId, channel, commandId: extra };
    }
  }
  return null;
}

/** MQTT-4.7.1: true when a topic filter contains wildcard characters. */
export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/**
 * True when `topicOrFilter` lies inside the subtree `prefix/` (literal match, no wildcard expansion).
 * Used by broker authorisation: a device's filters must stay under its own subtree.
 */
export function isUnder(topicOrFilter: string, prefix: string): boolean {
  return topicOrFilter.startsWith(`${prefix}/`);
}

export function deviceUpPrefix(deviceId: string): string {
  return `${deviceRoot(deviceId)}/up`;
}

export function deviceDownPrefix(deviceId: string): string {
  return `${deviceRoot(deviceId)}/down`;
}
