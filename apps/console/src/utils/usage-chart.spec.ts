import { describe, expect, it } from 'vitest';
import { budgetInView, buildUsageChart, OTHER_SERIES } from './usage-chart';
import { formatTokens } from './format';

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

describe('budgetInView', () => {
  const day = (values: number[], budget: number | null) => ({
    buckets: values.map((_, i) => i),
    series: [{ key: 'a', values, total: values.reduce((a, b) => a + b, 0) }],
    budget,
    input: values,
    output: values.map(() => 0),
  });

  it('scales to a quiet day instead of a budget far above it, and shows the budget once usage nears it', () => {
    expect(budgetInView(day([168, 40], 200_000))).toBe(false);
    expect(budgetInView(day([60_000, 10], 200_000))).toBe(true);
    expect(budgetInView(day([168], null))).toBe(false);
  });

  it('labels an hour’s share of a daily budget in whole tokens', () => {
    expect(formatTokens(200_000 / 24, 'en')).toBe('8,333');
    expect(formatTokens(123_456, 'en')).toBe('123.5K');
  });
});
