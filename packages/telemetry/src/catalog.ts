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

/** Static metrics: present on any Linux box (disk and memory may still be absent if unreadable). */
export const METRIC_CATALOG: readonly MetricDefinition[] = Object.freeze(
  [
    {
      name: 'cpu.usage_pct',
      unit: 'percent',
      type: 'gauge',
      description: 'CPU busy time over the sample window, all cores (0-100).',
    },
    {
      name: 'cpu.iowait_pct',
      unit: 'percent',
      type: 'gauge',
      description: 'CPU time spent waiting for I/O over the sample window, all cores (0-100).',
    },
    { name: 'cpu.cores', unit: 'count', type: 'gauge', description: 'Online CPU cores seen in /proc/stat.' },
    { name: 'mem.total_bytes', unit: 'bytes', type: 'gauge', description: 'Physical memory (MemTotal).' },
    {
      name: 'mem.available_bytes',
      unit: 'bytes',
      type: 'gauge',
      description: 'Memory available for new work without swapping (MemAvailable).',
    },
    { name: 'mem.used_bytes', unit: 'bytes', type: 'gauge', description: 'MemTotal - MemAvailable.' },
    {
      name: 'mem.used_pct',
      unit: 'percent',
      type: 'gauge',
      description: 'mem.used_bytes / mem.total_bytes (0-100).',
    },
    { name: 'swap.total_bytes', unit: 'bytes', type: 'gauge', description: 'Swap space (SwapTotal).' },
    { name: 'swap.used_bytes', unit: 'bytes', type: 'gauge', description: 'SwapTotal - SwapFree.' },
    { name: 'load.1m', unit: 'load', type: 'gauge', description: 'Load average over 1 minute.' },
    { name: 'load.5m', unit: 'load', type: 'gauge', description: 'Load average over 5 minutes.' },
    { name: 'load.15m', unit: 'load', type: 'gauge', description: 'Load average over 15 minutes.' },
    {
      name: 'disk.total_bytes',
      unit: 'bytes',
      type: 'gauge',
      description: 'Size of the file system holding the first disk path.',
    },
    { name: 'disk.used_bytes', unit: 'bytes', type: 'gauge', description: 'Used bytes on that file system.' },
    {
      name: 'disk.available_bytes',
      unit: 'bytes',
      type: 'gauge',
      description: 'Bytes still available to unprivileged users on that file system.',
    },
    {
      name: 'disk.used_pct',
      unit: 'percent',
      type: 'gauge',
      description: 'used / (used + available), as df reports it (0-100).',
    },
    {
      name: 'net.rx_bytes',
      unit: 'bytes',
      type: 'counter',
      description: 'Bytes received, non-loopback interfaces summed.',
    },
    {
      name: 'net.tx_bytes',
      unit: 'bytes',
      type: 'counter',
      description: 'Bytes sent, non-loopback interfaces summed.',
    },
    {
      name: 'net.rx_bytes_per_s',
      unit: 'bytes/s',
      type: 'gauge',
      description: 'Receive rate over the sample window.',
    },
    {
      name: 'net.tx_bytes_per_s',
      unit: 'bytes/s',
      type: 'gauge',
      description: 'Send rate over the sample window.',
    },
    { name: 'uptime.seconds', unit: 'seconds', type: 'gauge', description: 'Seconds since boot.' },
    {
      name: 'procs.running',
      unit: 'count',
      type: 'gauge',
      description: 'Runnable tasks (procs_running in /proc/stat).',
    },
    {
      name: 'procs.blocked',
      unit: 'count',
      type: 'gauge',
      description: 'Tasks blocked on I/O (procs_blocked in /proc/stat).',
    },
    {
      name: 'procs.total',
      unit: 'count',
      type: 'gauge',
      description: 'Scheduling entities that exist (/proc/loadavg).',
    },
    { name: 'temp.max_c', unit: 'celsius', type: 'gauge', description: 'Hottest thermal zone.' },
    {
      name: 'power.total_w',
      unit: 'watts',
      type: 'gauge',
      description: 'Sum of the top-level RAPL domains (packages; psys left out as it overlaps them).',
    },
  ].map((d) => Object.freeze(d as MetricDefinition)),
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
    return { name, unit: 'celsius', type: 'gauge', description: `Temperature of thermal zone "${zone}".` };
  }
  const domain = POWER_DOMAIN_RE.exec(name)?.[1];
  if (domain !== undefined) {
    return {
      name,
      unit: 'watts',
      type: 'gauge',
      description: `Average power of RAPL domain "${domain}" over the sample window.`,
    };
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
