import { describe, expect, it } from 'vitest';
import { buildUsageChart, OTHER_SERIES } from './usage-chart';

const point = (day: number, input: number, output: number) => ({
  start: `2026-11-${String(day).padStart(2, '0')}T00:00:00.000Z`,
  inputTokens: input,
  outputTokens: output,
});

describe('buildUsageChart', () => {
  it('puts every series on the same buckets, zero where one has none, busiest first', () => {
    const chart = buildUsageChart(
      [
        { key: 'small', points: [point(26, 10, 0)] },
        { key: 'big', points: [point(25, 100, 50), point(27, 200, 100)] },
      ],
      'day',
      1000,
    );
    expect(chart.buckets.map((b) => new Date(b).getUTCDate())).toEqual([25, 26, 27]);
    expect(chart.series).toEqual([
      { key: 'big', values: [150, 0, 300], total: 450 },
      { key: 'small', values: [0, 10, 0], total: 10 },
    ]);
    expect(chart.input).toEqual([100, 10, 200]);
    expect(chart.output).toEqual([50, 0, 100]);
    expect(chart.budget).toBe(1000);
  });

  it('spreads the daily budget over hours and has no line without a budget', () => {
    expect(buildUsageChart([], 'hour', 2400).budget).toBe(100);
    expect(buildUsageChart([], 'day', 0).budget).toBeNull();
  });

  it('folds the quietest series into "other"', () => {
    const series = Array.from({ length: 5 }, (_, i) => ({
      key: `s${i}`,
      points: [point(26, (i + 1) * 10, 0)],
    }));
    const chart = buildUsageChart(series, 'day', 0, 3);
    expect(chart.series.map((s) => [s.key, s.total])).toEqual([
      ['s4', 50],
      ['s3', 40],
      [OTHER_SERIES, 60],
    ]);
  });
});
