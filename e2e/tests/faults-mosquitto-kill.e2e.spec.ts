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
import { countProblems, countStoredWhenSettled, SpoolingBox } from '../support/spooling-box.js';
import { productionEnv, REPLICA_ID } from '../support/stacks.js';

const INFRA_CONFIG = `${repoRoot}/infra/mosquitto/mosquitto.conf`;
const pgUp = await postgresReachable();

/**
 * docs/operations.md, "Faults on the data path": the production broker, with the shipped configuration,
 * killed with SIGKILL while boxes publish, and started again. The boxes reconnect and send again what
 * they hold no storage confirmation for; the fleet service reconnects by itself and subscribes again.
 *
 * Mosquitto 2.0 acknowledges a box's message on receipt and keeps it in memory (written to disk only
 * every `autosave_interval`): what it acknowledged and had not handed to a committed batch when it was
 * killed is gone from the broker. A box therefore deletes a record only on the fleet service's `down/stored`
 * (docs/protocol.md, "Acknowledged means stored"), sent after the commit: every message is stored, once.
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

  it('loses nothing the broker acknowledged, stores every message once, and reconnects by itself', async () => {
    await waitFor('every box has messages stored', () => boxes.every((box) => box.acked.size >= 20));
    const ackedBefore = boxes.map((box) => box.acked.size);

    await broker.restart(1_000, 'SIGKILL');
    const back = await waitForReadiness(platform.fleet.url, 200, 'the service is back on the broker');
    expect(back.checks?.broker).toBe('up');
    await waitFor('the boxes publish again', () =>
      boxes.every((box, i) => box.acked.size > ackedBefore[i]! + 20),
    );
    await Promise.all(boxes.map((box) => box.finish()));

    const counts = await countStoredWhenSettled(boxes, async (id) =>
      (await platform.api.telemetry(id, 5_000)).map((sample) => sample.seq),
    );
    // Acknowledged by the broker and never stored (lost with it, or taken before the service had
    // subscribed again): the boxes that would have deleted them on the PUBACK sent them again.
    const resent = boxes.reduce((sum, box) => sum + box.unconfirmedResends, 0);
    console.info(
      `Mosquitto SIGKILL: ${resent} messages acknowledged by the broker never reached storage and were sent ` +
        `again; ${counts.reduce((sum, c) => sum + c.sent, 0)} sent, ${counts.reduce((sum, c) => sum + c.stored, 0)} stored`,
    );
    expect(countProblems(counts)).toEqual([]);
    expect(boxes.every((box) => box.reconnects >= 1)).toBe(true);
  });
});
