import { describe, expect, it } from 'vitest';
import { CHARTS, formatBytesPerSecond, formatMetric, seriesPoints, temperatureMetrics } from './metrics';

describe('chart definitions', () => {
  it('draws every temperature zone, the hottest-zone summary first', () => {
    const available = ['cpu.usage_pct', 'temp.zone1_c', 'temp.max_c', 'temp.acpitz_c', 'power.total_w'];
    expect(temperatureMetrics(available)).toEqual(['temp.max_c', 'temp.acpitz_c', 'temp.zone1_c']);
    const temperature = CHARTS.find((chart) => chart.id === 'temperature')!;
    expect(temperature.series(available).map((s) => s.label)).toEqual(['max', 'acpitz', 'zone1']);
    expect(temperature.series(['cpu.usage_pct'])).toEqual([]);
  });

  it('skips samples that lack a metric', () => {
    const points = seriesPoints(
      [
        { ts: 1, values: { 'power.total_w': 5 } },
        { ts: 2, values: {} },
        { ts: 3, values: { 'power.total_w': 6 } },
      ],
      'power.total_w',
    );
    expect(points).toEqual([
      [1, 5],
      [3, 6],
    ]);
  });

  it('formats values with their units', () => {
    expect(formatMetric('percent', 12.345)).toBe('12.3 %');
    expect(formatMetric('celsius', 45)).toBe('45.0 °C');
    expect(formatMetric('watts', 7.25)).toBe('7.3 W');
    expect(formatMetric('load', 0.5)).toBe('0.50');
    expect(formatBytesPerSecond(999)).toBe('999 B/s');
    expect(formatBytesPerSecond(1_500)).toBe('1.5 KB/s');
    expect(formatBytesPerSecond(250_000_000)).toBe('250 MB/s');
  });
});
