import { readFileSync } from 'node:fs';

/**
 * TEST HOOKS of the update flow, for the end-to-end tests that kill -9 the real agent at each step
 * (test/ota-kill.e2e.spec.ts). A box never sets these variables, and unset they change nothing.
 *
 * - `AGENTBOX_OTA_TEST_HOLD_AT=<point>`: the flow parks at that point until the agent stops, so a test can
 *   kill it at a step that otherwise lasts milliseconds. It holds every time it reaches the point.
 * - `AGENTBOX_OTA_TEST_LOCAL_TIME_FILE=<path>`: maintenance windows are evaluated against the `HH:MM` in
 *   that file (read at every check) instead of the box's local time, so a test can open a window.
 */
export const TEST_HOLD_POINTS = [
  /** The release metadata is about to be verified (step `verify`). */
  'before-verify',
  /** Every byte of the bundle is on disk; its size and sha256 are about to be checked. */
  'before-bundle-check',
  /** boot.json is committed; the `healthy` report and the final state are not written yet. */
  'after-commit',
] as const;
export type TestHoldPoint = (typeof TEST_HOLD_POINTS)[number];

export interface OtaTestHooks {
  holdAt?: TestHoldPoint;
  minuteOfDay?: () => number;
}

export function otaTestHooksFromEnv(env: NodeJS.ProcessEnv): OtaTestHooks {
  const hooks: OtaTestHooks = {};
  const holdAt = env.AGENTBOX_OTA_TEST_HOLD_AT;
  if (holdAt) {
    if (!(TEST_HOLD_POINTS as readonly string[]).includes(holdAt))
      throw new Error(`AGENTBOX_OTA_TEST_HOLD_AT must be one of ${TEST_HOLD_POINTS.join(', ')}`);
    hooks.holdAt = holdAt as TestHoldPoint;
  }
  const clockFile = env.AGENTBOX_OTA_TEST_LOCAL_TIME_FILE;
  if (clockFile) hooks.minuteOfDay = () => minuteOfDayFromFile(clockFile);
  return hooks;
}

function minuteOfDayFromFile(path: string): number {
  const match = /^(\d{2}):(\d{2})/.exec(readFileSync(path, 'utf8').trim());
  if (!match) throw new Error(`${path} does not hold a local time HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}
