import { rm } from 'node:fs/promises';
import { afterAll, afterEach } from 'vitest';
import { FakeFleet } from './fake-fleet.js';
import { FleetKeys, FleetView, type Box, type BundleServer } from './ota-box.js';

/** What an OTA suite starts in its beforeAll; any of it may be missing when that beforeAll failed. */
export interface OtaSuiteStarted {
  box?: Box;
  server?: BundleServer;
  work?: string;
}

/**
 * The cloud side every OTA suite starts from (a fake fleet, its view of the one box, the fleet's keys) and the
 * hooks it ends with: the box's output printed after a failed test, and after the suite the box, the fleet and
 * the bundle server stopped and the work dir removed. `started` is called when the hooks run, so it sees what
 * the suite's beforeAll made.
 */
export function useOtaSuite(started: () => OtaSuiteStarted) {
  const fleet = new FakeFleet();
  const view = new FleetView(fleet);
  const keys = new FleetKeys();

  afterEach((context) => {
    if (context.task.result?.state === 'fail') console.error(started().box?.describe());
  });

  afterAll(async () => {
    const { box, server, work } = started();
    await box?.stop();
    await fleet.stop();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  return { fleet, view, keys };
}
