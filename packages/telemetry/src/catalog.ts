export type MetricType = 'gauge' | 'counter';

export interface MetricDefinition {
  name: string;
  unit: string;
  type: MetricType;
  description: string;
}

/**
 * Same pattern as `METRIC_NAME_PATTERN` in @agentbox/schemas (the wire contract); kept here so this
 * package stays dependency-free. The catalog spec checks every name against it.
 */
export const METRIC_NAME_RE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

/** A metric that reads as a level (memory in use, a temperature). */
function gauge(name: string, unit: string, description: string): MetricDefinition {
  return { name, unit, type: 'gauge', description };
}

/** A metric that only ever grows (bytes received since boot). */
function counter(name: string, unit: string, description: string): MetricDefinition {
  return { name, unit, type: 'counter', description };
}

/** Static metrics: present on any Linux box (disk and memory may still be absent if unreadable). */
export const METRIC_CATALOG: readonly MetricDefinition[] = Object.freeze(
  [
    gauge('cpu.usage_pct', 'percent', 'CPU busy time over the sample window, all cores (0-100).'),
    gauge(
      'cpu.iowait_pct',
      'percent',
      'CPU time spent waiting for I/O over the sample window, all cores (0-100).',
    ),
    gauge('cpu.cores', 'count', 'Online CPU cores seen in /proc/stat.'),
    gauge('mem.total_bytes', 'bytes', 'Physical memory (MemTotal).'),
    gauge('mem.available_bytes', 'bytes', 'Memory available for new work without swapping (MemAvailable).'),
    gauge('mem.used_bytes', 'bytes', 'MemTotal - MemAvailable.'),
    gauge('mem.used_pct', 'percent', 'mem.used_bytes / mem.total_bytes (0-100).'),
    gauge('swap.total_bytes', 'bytes', 'Swap space (SwapTotal).'),
    gauge('swap.used_bytes', 'bytes', 'SwapTotal - SwapFree.'),
    gauge('load.1m', 'load', 'Load average over 1 minute.'),
    gauge('load.5m', 'load', 'Load average over 5 minutes.'),
    gauge('load.15m', 'load', 'Load average over 15 minutes.'),
    gauge('disk.total_bytes', 'bytes', 'Size of the file system holding the first disk path.'),
    gauge('disk.used_bytes', 'bytes', 'Used bytes on that file system.'),
    gauge(
      'disk.available_bytes',
      'bytes',
      'Bytes still available to unprivileged users on that file system.',
    ),
    gauge('disk.used_pct', 'percent', 'used / (used + available), as df reports it (0-100).'),
    counter('net.rx_bytes', 'bytes', 'Bytes received, non-loopback interfaces summed.'),
    counter('net.tx_bytes', 'bytes', 'Bytes sent, non-loopback interfaces summed.'),
    gauge('net.rx_bytes_per_s', 'bytes/s', 'Receive rate over the sample window.'),
    gauge('net.tx_bytes_per_s', 'bytes/s', 'Send rate over the sample window.'),
    gauge('uptime.seconds', 'seconds', 'Seconds since boot.'),
    gauge('procs.running', 'count', 'Runnable tasks (procs_running in /proc/stat).'),
    gauge('procs.blocked', 'count', 'Tasks blocked on I/O (procs_blocked in /proc/stat).'),
    gauge('procs.total', 'count', 'Scheduling entities that exist (/proc/loadavg).'),
    gauge('temp.max_c', 'celsius', 'Hottest thermal zone.'),
    gauge(
      'power.total_w',
      'watts',
      'Sum of the top-level RAPL domains (packages; psys left out as it overlaps them).',
    ),
  ].map((definition) => Object.freeze(definition)),
);

const STATIC_BY_NAME = new Map(METRIC_CATALOG.map((d) => [d.name, d]));

const TEMP_ZONE_RE = /^temp\.([a-z0-9_]+)_c$/;
const POWER_DOMAIN_RE = /^power\.([a-z0-9_]+)_w$/;

/** Definition of a metric by name, static or dynamic (`temp.<zone>_c`, `power.<domain>_w`). */
export function describeMetric(name: string): MetricDefinition | undefined {
  const known = STATIC_BY_NAME.get(name);
  if (known) return known;
  const zone = TEMP_ZONE_RE.exec(name)?.[1];
  if (zone !== undefined) {
    return gauge(name, 'celsius', `Temperature of thermal zone "${zone}".`);
  }
  const domain = POWER_DOMAIN_RE.exec(name)?.[1];
  if (domain !== undefined) {
    return gauge(name, 'watts', `Average power of RAPL domain "${domain}" over the sample window.`);
  }
  return undefined;
}

/** Turns a sensor label (`x86_pkg_temp`, `cpu-thermal`, `package-0`) into a metric name segment. */
export function sanitizeMetricSegment(raw: string): string {
  return raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
}
