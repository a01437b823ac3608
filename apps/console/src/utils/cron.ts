import { Cron } from 'croner';
import cronstrue from 'cronstrue';
import 'cronstrue/locales/zh_CN.js';

export type CronCheck = { ok: true; description: string; next: Date[] } | { ok: false; error: string };

/**
 * Checks a cron expression with croner (the scheduler the boxes run) and describes it in words.
 * Next runs are computed in the given time zone, or the browser's: the box uses its own zone when
 * none is set, which may differ.
 */
export function checkCron(expression: string, locale: string, timezone?: string, count = 3): CronCheck {
  const trimmed = expression.trim();
  if (trimmed === '') return { ok: false, error: 'empty' };
  let next: Date[];
  try {
    const job = new Cron(trimmed, { paused: true, ...(timezone ? { timezone } : {}) });
    next = job.nextRuns(count);
    job.stop();
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  let description: string;
  try {
    description = cronstrue.toString(trimmed, {
      locale: locale.toLowerCase().startsWith('zh') ? 'zh_CN' : 'en',
      use24HourTimeFormat: true,
      verbose: false,
    });
  } catch {
    // croner accepts a few forms cronstrue cannot put in words; the schedule itself is valid.
    description = trimmed;
  }
  return { ok: true, description, next };
}

/** Every N seconds in the largest whole unit: 90 -> 90 s, 300 -> 5 min, 7200 -> 2 h, 86400 -> 1 d. */
export function splitInterval(everySec: number): { value: number; unit: 's' | 'min' | 'h' | 'd' } {
  if (everySec % 86_400 === 0) return { value: everySec / 86_400, unit: 'd' };
  if (everySec % 3_600 === 0) return { value: everySec / 3_600, unit: 'h' };
  if (everySec % 60 === 0) return { value: everySec / 60, unit: 'min' };
  return { value: everySec, unit: 's' };
}
