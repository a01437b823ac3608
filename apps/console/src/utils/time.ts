const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "5 seconds ago" / "5 秒钟前", in the given locale. */
export function formatRelative(then: number, now: number, locale: string): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  let value = (then - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return format.format(Math.round(value), unit);
    value /= size;
  }
  return format.format(Math.round(value), 'year');
}

export function formatAbsolute(then: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(then);
}

/** An ISO 8601 UTC time as boxes and the service write it into messages ("until 2026-12-08T00:00:00.000Z"). */
const ISO_UTC = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z\b/g;

/** A message from a box or the service with its ISO times shown in the reader's locale and time zone. */
export function localizeTimes(text: string, locale: string): string {
  return text.replace(ISO_UTC, (iso) => {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? iso : formatAbsolute(ms, locale);
  });
}

export function parseTime(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
