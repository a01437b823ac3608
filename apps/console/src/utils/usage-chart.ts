export const OTHER_SERIES = '__other__';

export interface UsagePointLike {
  start: string;
  inputTokens: number;
  outputTokens: number;
}
export interface UsageSeriesLike {
  key: string;
  points: readonly UsagePointLike[];
}

export interface UsageChartData {
  /** Bucket starts, epoch ms, oldest first. */
  buckets: number[];
  /** Tokens (input + output) per bucket, one entry per stacked series, busiest first. */
  series: { key: string; values: number[]; total: number }[];
  /** The budget of one bucket (a day's budget, or a 24th of it per hour); null without a budget. */
  budget: number | null;
  /** Input and output per bucket over all series. */
  input: number[];
  output: number[];
}

/**
 * Puts the usage series on one axis: every bucket any series has, zero where a series has none,
 * the busiest `maxSeries - 1` series of their own and the rest folded into one "other" series.
 */
export function buildUsageChart(
  series: readonly UsageSeriesLike[],
  bucket: 'hour' | 'day',
  budgetPerDay: number,
  maxSeries = 8,
): UsageChartData {
  const starts = new Set<number>();
  for (const s of series) for (const point of s.points) starts.add(Date.parse(point.start));
  const buckets = [...starts].filter((ms) => !Number.isNaN(ms)).sort((a, b) => a - b);
  const position = new Map(buckets.map((ms, i) => [ms, i]));
  const input = buckets.map(() => 0);
  const output = buckets.map(() => 0);

  const all = series.map((s) => {
    const values = buckets.map(() => 0);
    for (const point of s.points) {
      const i = position.get(Date.parse(point.start));
      if (i === undefined) continue;
      values[i] = (values[i] ?? 0) + point.inputTokens + point.outputTokens;
      input[i] = (input[i] ?? 0) + point.inputTokens;
      output[i] = (output[i] ?? 0) + point.outputTokens;
    }
    return { key: s.key, values, total: values.reduce((a, b) => a + b, 0) };
  });
  all.sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));

  let shown = all;
  if (all.length > maxSeries) {
    const rest = all.slice(maxSeries - 1);
    const values = buckets.map((_, i) => rest.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
    shown = [
      ...all.slice(0, maxSeries - 1),
      { key: OTHER_SERIES, values, total: values.reduce((a, b) => a + b, 0) },
    ];
  }
  const budget = budgetPerDay > 0 ? (bucket === 'day' ? budgetPerDay : budgetPerDay / 24) : null;
  return { buckets, series: shown, budget, input, output };
}

/** Below this share of the budget at its busiest bucket, the chart scales to the usage, not the budget. */
export const BUDGET_IN_VIEW_SHARE = 0.25;

/**
 * Whether the budget line belongs on the axis: only when usage comes near it. A quiet day of 168 tokens
 * against a budget of 200,000 would otherwise be a flat line at the bottom of a chart scaled to the budget.
 */
export function budgetInView(data: UsageChartData): boolean {
  if (data.budget === null) return false;
  const peak = Math.max(
    0,
    ...data.buckets.map((_, i) => data.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)),
  );
  return peak >= data.budget * BUDGET_IN_VIEW_SHARE;
}
