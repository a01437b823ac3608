import { OtaError } from './ota-error.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90s`, `30m`, `12h`, `365d` -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) {
    throw new OtaError(
      'USAGE',
      `"${text}" is not a duration`,
      'write a number and a unit: 90s, 30m, 12h or 365d',
    );
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
