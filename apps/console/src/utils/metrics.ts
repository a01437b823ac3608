/** Which charts the device page draws, and how each metric is labelled and formatted. */

export type ChartId = 'cpu' | 'memory' | 'disk' | 'load' | 'temperature' | 'network' | 'power';
export type MetricUnit = 'percent' | 'load' | 'celsius' | 'bytesPerSecond' | 'watts';

export interface SeriesDef {
  metric: string;
  /** i18n key of the legend label, or a literal label for dynamic metrics (sensor zones). */
  labelKey?: string;
  label?: string;
}

export interface ChartDef {
  id: ChartId;
  titleKey: string;
  unit: MetricUnit;
  /** Fixed 0..100 axis for percentages. */
  max?: number;
  series: (available: readonly string[]) => SeriesDef[];
  /** Drawn only when the box reports one of its metrics. */
  optional?: boolean;
}

export const TEMPERATURE_PATTERN = /^temp\.(.+)_c$/;

export function temperatureMetrics(available: readonly string[]): string[] {
  // The hottest-zone summary first, then the zones by name.
  return available
    .filter((name) => TEMPERATURE_PATTERN.test(name))
    .sort((a, b) => (a === 'temp.max_c' ? -1 : b === 'temp.max_c' ? 1 : a.localeCompare(b)));
}

export const CHARTS: readonly ChartDef[] = [
  {
    id: 'cpu',
    titleKey: 'charts.cpu',
    unit: 'percent',
    max: 100,
    series: () => [{ metric: 'cpu.usage_pct', labelKey: 'charts.usage' }],
  },
  {
    id: 'memory',
    titleKey: 'charts.memory',
    unit: 'percent',
    max: 100,
    series: () => [{ metric: 'mem.used_pct', labelKey: 'charts.usage' }],
  },
  {
    id: 'disk',
    titleKey: 'charts.disk',
    unit: 'percent',
    max: 100,
    series: () => [{ metric: 'disk.used_pct', labelKey: 'charts.usage' }],
  },
  {
    id: 'load',
    titleKey: 'charts.load',
    unit: 'load',
    series: () => [
      { metric: 'load.1m', labelKey: 'charts.load1' },
      { metric: 'load.5m', labelKey: 'charts.load5' },
      { metric: 'load.15m', labelKey: 'charts.load15' },
    ],
  },
  {
    id: 'temperature',
    titleKey: 'charts.temperature',
    unit: 'celsius',
    series: (available) =>
      temperatureMetrics(available).map((metric) => ({
        metric,
        label: TEMPERATURE_PATTERN.exec(metric)?.[1] ?? metric,
      })),
  },
  {
    id: 'network',
    titleKey: 'charts.network',
    unit: 'bytesPerSecond',
    series: () => [
      { metric: 'net.rx_bytes_per_s', labelKey: 'charts.rx' },
      { metric: 'net.tx_bytes_per_s', labelKey: 'charts.tx' },
    ],
  },
  {
    id: 'power',
    titleKey: 'charts.power',
    unit: 'watts',
    optional: true,
    series: () => [{ metric: 'power.total_w', labelKey: 'charts.power' }],
  },
];

export interface SampleLike {
  ts: number;
  values: Record<string, number>;
}

/** [time, value] points of one metric, in sample order; samples without the metric are skipped. */
export function seriesPoints(samples: readonly SampleLike[], metric: string): [number, number][] {
  const points: [number, number][] = [];
  for (const sample of samples) {
    const value = sample.values[metric];
    if (typeof value === 'number' && Number.isFinite(value)) points.push([sample.ts, value]);
  }
  return points;
}

const BYTE_UNITS = ['B/s', 'KB/s', 'MB/s', 'GB/s', 'TB/s'];

export function formatBytesPerSecond(value: number): string {
  let scaled = Math.abs(value);
  let unit = 0;
  while (scaled >= 1000 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1000;
    unit += 1;
  }
  const digits = scaled >= 100 || unit === 0 ? 0 : 1;
  return `${(Math.sign(value) * scaled).toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

export function formatMetric(unit: MetricUnit, value: number): string {
  switch (unit) {
    case 'percent':
      return `${value.toFixed(1)} %`;
    case 'load':
      return value.toFixed(2);
    case 'celsius':
      return `${value.toFixed(1)} °C`;
    case 'bytesPerSecond':
      return formatBytesPerSecond(value);
    case 'watts':
      return `${value.toFixed(1)} W`;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = bytes;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${scaled.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
