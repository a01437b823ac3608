import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropSchema,
  postgresReachable,
  randomSchemaName,
  startMosquitto,
  waitFor,
  type PrivateMosquitto,
} from '@agentbox/test-support';
import { Platform } from '../support/platform.js';
import { repoRoot } from '../support/processes.js';
import { waitForReadiness } from '../support/readiness.js';
import {
  countProblems,
  countStoredWhenSettled,
  SpoolingBox,
  type StoredCount,
} from '../support/spooling-box.js';
import { productionEnv, REPLICA_ID } from '../support/stacks.js';

const INFRA_CONFIG = `${repoRoot}/infra/mosquitto/mosquitto.conf`;
const pgUp = await postgresReachable();

/**
 * docs/operations.md, "Faults on the data path": the production broker, with the shipped configuration,
 * killed with SIGKILL while boxes publish, and started again. The boxes reconnect and send again what
 * they hold no PUBACK for; the fleet service reconnects by itself and subscribes again.
 *
 * Mosquitto 2.0 acknowledges a box's message on receipt and keeps it in memory (written to disk only
 * every `autosave_interval`), and it restores no shared subscription: what it acknowledged and had not
 * handed to a committed batch when it was killed, and what it acknowledged before the service had
 * subscribed again, is gone (docs/protocol.md: what an external broker drops is its own). The test holds
 * the fleet to its part: from the moment `/readyz` is 200 again every acknowledged message is stored,
 * none twice, and it prints what the crash cost.
 */
describe.skipIf(!pgUp)('Mosquitto killed with -9 during ingest', () => {
  const schema = randomSchemaName('agentbox_e2e_kill');
  let broker: PrivateMosquitto;
  let platform: Platform;
  let boxes: SpoolingBox[] = [];

  beforeAll(async () => {
    broker = await startMosquitto({ configFile: INFRA_CONFIG });
    platform = new Platform({
      ...productionEnv(broker, schema),
      AGENTBOX_REPLICA_ID: REPLICA_ID,
      AGENTBOX_INGEST_FLUSH_MS: '100',
    });
    await platform.start();
    const token = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 3 });
    boxes = await Promise.all(
      [0, 1, 2].map((i) => SpoolingBox.enrol(platform.fleet.url, token, `kill-${i}`)),
    );
  });

  afterAll(async () => {
    await Promise.all(boxes.map((box) => box.abort()));
    await platform?.stop();
    await broker?.stop();
    await dropSchema(schema);
  });

  it('reconnects by itself, and stores once every message acknowledged since it is ready again', async () => {
    await waitFor('every box has messages stored', () => boxes.every((box) => box.acked.size >= 20));
    const ackedBefore = boxes.map((box) => box.acked.size);

    await broker.restart(1_000, 'SIGKILL');
    const back = await waitForReadiness(platform.fleet.url, 200, 'the service is back on the broker');
    expect(back.checks?.broker).toBe('up');
    const ackedWhenReady = boxes.map((box) => new Set(box.acked));
    await waitFor('the boxes publish again', () =>
      boxes.every((box, i) => box.acked.size > ackedBefore[i]! + 20),
    );
    await Promise.all(boxes.map((box) => box.finish()));

    const sinceReady = (counts: StoredCount[]) =>
      counts.map((count, i) => ({
        ...count,
        missing: count.missing.filter((seq) => !ackedWhenReady[i]!.has(seq)),
        unstored: count.unstored.filter((seq) => !ackedWhenReady[i]!.has(seq)),
      }));
    const counts = await countStoredWhenSettled(
      boxes,
      async (id) => (await platform.api.telemetry(id, 5_000)).map((sample) => sample.seq),
      { settled: (current) => countProblems(sinceReady(current)).length === 0 },
    );
    const lostInCrash = counts.flatMap((count, i) =>
      count.missing.filter((seq) => ackedWhenReady[i]!.has(seq)),
    );
    console.info(
      `Mosquitto SIGKILL: ${lostInCrash.length} of ${counts.reduce((sum, c) => sum + c.sent, 0)} ` +
        'messages acknowledged by the broker before the service was ready again were lost with it',
    );
    expect(countProblems(sinceReady(counts))).toEqual([]);
    expect(boxes.every((box) => box.reconnects >= 1)).toBe(true);
  });
});
