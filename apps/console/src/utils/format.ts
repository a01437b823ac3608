/** Token counts as people read them: 950, 12.3k, 4.5M (locale digits and separators). */
export function formatTokens(value: number, locale: string): string {
  return new Intl.NumberFormat(locale, {
    notation: value >= 10_000 ? 'compact' : 'standard',
    // Whole tokens below 10,000 (an hour's share of a budget is no 8,333.3), 12.3K above.
    maximumFractionDigits: value >= 10_000 ? 1 : 0,
  }).format(value);
}

/** The exact count, grouped: 1,234,567. */
export function formatCount(value: number, locale: string): string {
  return new Intl.NumberFormat(locale).format(value);
}

export function formatPercent(share: number, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }).format(share);
}

/** 850 ms, 12.4 s, 3 min 5 s, 2 h 10 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const totalSec = Math.round(ms / 1000);
  if (totalSec < 3600) return `${Math.floor(totalSec / 60)} min ${totalSec % 60} s`;
  const totalMin = Math.round(totalSec / 60);
  return `${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
}

/** Duration between two ISO times; an open end runs until `now`. Null before the start. */
export function runDurationMs(
  startedAt: string | null | undefined,
  endedAt: string | null | undefined,
  now: number,
): number | null {
  if (!startedAt) return null;
  const start = Date.parse(startedAt);
  const end = endedAt ? Date.parse(endedAt) : now;
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, end - start);
}

/** JSON for display: strings as they are, anything else pretty-printed. */
export function showData(data: unknown): string {
  if (data === undefined) return '';
  if (typeof data === 'string') return data;
  try {
    return JSON.stringify(data, null, 2) ?? '';
  } catch {
    // Circular or BigInt: nothing the box sends, but never break the page over it.
    return Object.prototype.toString.call(data);
  }
}
