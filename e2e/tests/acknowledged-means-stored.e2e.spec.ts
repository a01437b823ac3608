import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '@agentbox/test-support';
import { Platform } from '../support/platform.js';
import { stacks } from '../support/stacks.js';
import { telemetryGaps } from '../support/telemetry-gaps.js';

/**
 * docs/protocol.md, "Acknowledged means stored": a message is acknowledged only after ingest has committed
 * it. The fleet service here commits every 3 s, so at any moment a few seconds of the box's telemetry (one
 * sample a second) have arrived and are not yet stored. A kill -9 then must cost nothing: on the embedded
 * broker the box never heard "delivered" for them and sends them again from its spool; with Mosquitto the
 * service never acknowledged them to the broker, which delivers them again to the replica's session.
 * Before the acknowledgements waited for the commit, each kill lost the samples of the open batch.
 */
describe.each(stacks)('acknowledged means stored, on $name', (stack) => {
  const FLUSH_MS = 3_000;
  let platform: Platform;
  let deviceId: string;
  let teardown: () => Promise<void> = () => Promise.resolve();

  beforeAll(async () => {
    const setup = await stack.setup();
    teardown = () => setup.teardown();
    platform = new Platform({ ...setup.env, AGENTBOX_INGEST_FLUSH_MS: String(FLUSH_MS) });
    await platform.start();
    const token = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    platform.startAgent('box-a', token);
    const device = await platform.waitForDevice((d) => d.online, 'box-a online');
    deviceId = device.id;
    await waitFor(
      'the first samples stored',
      async () => (await platform.api.telemetry(deviceId)).length >= 2,
      {
        timeoutMs: 30_000,
      },
    );
  });

  afterAll(async () => {
    await platform?.stop();
    await teardown();
  });

  it('loses no telemetry sample when the fleet service is killed with -9 in the middle of a batch, twice', async () => {
    for (let kill = 0; kill < 2; kill++) {
      // Past one commit and into the next batch: its samples have arrived and are not committed yet.
      await sleep(FLUSH_MS + 1_500);
      await platform.restartFleet('SIGKILL');
    }
    const backAt = Date.now();
    await waitFor(
      'telemetry taken after the last restart is stored',
      async () => (await platform.api.telemetry(deviceId)).some((sample) => sample.ts > backAt + 1_000),
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    const samples = await platform.api.telemetry(deviceId);
    expect(samples.length).toBeGreaterThan(10);
    // One sample a second: a lost one leaves a gap of two intervals or more. (A sample the box sent
    // twice is stored once by its primary key, so duplicates need no check here.)
    expect(telemetryGaps(samples)).toEqual([]);
  });
});
