/**
 * Ticks of a time axis drawn on a linear scale (epoch milliseconds): round local times, as many as fit.
 * Chart.js's own time scale needs a date library behind an adapter; the browser's Date and Intl
 * already know the reader's time zone and language.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Steps between ticks, smallest first; below a day each divides a day. */
const STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
];

export interface TimeTick {
  value: number;
  /** Local midnight: labelled with the date rather than the time of day. */
  major: boolean;
}

/** The smallest step that keeps at most `maxTicks` ticks between `min` and `max`. */
export function timeStep(min: number, max: number, maxTicks: number): number {
  const span = max - min;
  const found = STEPS.find((step) => span / step <= maxTicks);
  if (found !== undefined) return found;
  const weeks = Math.ceil(span / maxTicks / (7 * DAY));
  return weeks * 7 * DAY;
}

function isMidnight(ms: number): boolean {
  const date = new Date(ms);
  return date.getHours() === 0 && date.getMinutes() === 0 && date.getSeconds() === 0;
}

/** Ticks from `min` to `max` at round local times (12:00, 12:15, …; midnights for days), at most `maxTicks`. */
export function timeTicks(min: number, max: number, maxTicks: number): TimeTick[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return [];
  const step = timeStep(min, max, Math.max(1, Math.floor(maxTicks)));
  const ticks: TimeTick[] = [];
  const day = new Date(min);
  day.setHours(0, 0, 0, 0);
  if (step < DAY) {
    // Counted from local midnight, so that ticks fall on round times in any time zone's offset.
    const midnight = day.getTime();
    for (let at = midnight + Math.ceil((min - midnight) / step) * step; at <= max; at += step) {
      ticks.push({ value: at, major: isMidnight(at) });
    }
    return ticks;
  }
  // Whole days in local time: a day stays midnight to midnight across daylight saving changes.
  if (day.getTime() < min) day.setDate(day.getDate() + 1);
  for (; day.getTime() <= max; day.setDate(day.getDate() + step / DAY)) {
    ticks.push({ value: day.getTime(), major: true });
  }
  return ticks;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(locale: string, kind: 'date' | 'minute' | 'second'): Intl.DateTimeFormat {
  const key = `${locale}|${kind}`;
  let found = formatters.get(key);
  if (!found) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'date'
        ? { month: 'short', day: 'numeric' }
        : { hour: '2-digit', minute: '2-digit', ...(kind === 'second' ? { second: '2-digit' } : {}) };
    found = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, found);
  }
  return found;
}

/** A tick's label: the date at midnight or when ticks are days apart, else the time of day. */
export function timeTickLabel(value: number, step: number, locale: string): string {
  if (step >= DAY || isMidnight(value)) return formatter(locale, 'date').format(value);
  return formatter(locale, step < MINUTE ? 'second' : 'minute').format(value);
}
