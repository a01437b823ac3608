import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@agentbox/test-support';
import { metricValue } from '../support/api.js';
import { Platform } from '../support/platform.js';
import { readSpool, spooledSampleTimes } from '../support/spool-files.js';

/** Ten minutes of telemetry at one sample a second, taken in seconds (AGENTBOX_TELEMETRY_INTERVAL_SEC=0.01). */
const BACKLOG_SAMPLES = 600;
const FAST = { AGENTBOX_TELEMETRY_INTERVAL_SEC: '0.01' };
/** Back online, the box takes no new sample for the length of the test: what arrives is the backlog. */
const QUIET = { AGENTBOX_TELEMETRY_INTERVAL_SEC: '3600' };
const BOX = 'box-catch-up';

interface Delivery {
  sequenceGaps: number;
  spoolDropped: number;
}

/**
 * A box offline for long holds a backlog in its spool; once back, it must drain it in a few coalesced
 * messages within seconds, every sample stored once, and the per-box sequence-gap count (docs/operations.md,
 * "Sequence gaps") must stay 0. The second case makes the spool overflow while offline: the records it
 * drops are loss, and the gap count must show exactly that many, explained by the box's own drop count.
 *
 * The box goes offline by being pointed at a broker port nobody listens on (AGENTBOX_MQTT_URL) while it
 * samples fast; it comes back restarted with its spool full, its own broker URL and a long interval, so
 * that no new sample blurs the count of messages. Nothing is in flight when it goes offline.
 */
describe('a box catching up after a long outage (embedded broker + SQLite)', () => {
  let platform: Platform;
  let deviceId: string;
  let nowhere: string;

  const stateDir = () => platform.stateDir(BOX);
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    metricValue(await platform.api.metrics(), name, labels);
  const telemetryMessages = () => metric('agentbox_ingest_messages_total', { channel: 'telemetry' });
  const gapsMetric = () => metric('agentbox_ingest_sequence_gaps_total');
  const delivery = async () =>
    (await platform.api.request<Delivery>('GET', `/api/v1/devices/${deviceId}/delivery`)).body;

  /** Restarts the box offline with `env`, lets it sample until `enough`, and stops it. */
  async function fillSpoolOffline(env: Record<string, string>, enough: () => boolean): Promise<void> {
    await platform.agent(BOX).kill('SIGTERM');
    platform.startAgent(BOX, undefined, { ...FAST, AGENTBOX_MQTT_URL: nowhere, ...env });
    await waitFor('the spool filled offline', () => enough() || undefined, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    await platform.agent(BOX).kill('SIGTERM');
  }

  /** Starts the box again on its own broker; resolves when it was started. */
  function reconnect(): number {
    const startedAt = Date.now();
    platform.startAgent(BOX, undefined, QUIET);
    return startedAt;
  }

  /** Waits until the box's spool holds nothing unacknowledged, so nothing is in flight for the next case. */
  async function spoolEmpty(): Promise<void> {
    await waitFor('the box spool empty', () => readSpool(stateDir()).records.length === 0 || undefined, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  }

  beforeAll(async () => {
    platform = new Platform();
    await platform.start();
    const token = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    platform.startAgent(BOX, token, QUIET);
    deviceId = (await platform.waitForDevice((d) => d.online, 'the box online')).id;
    nowhere = `mqtt://127.0.0.1:${await freePort()}`;
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('drains the backlog in a few messages within seconds, every sample once, no sequence gap', async () => {
    await fillSpoolOffline(
      {},
      () => spooledSampleTimes(readSpool(stateDir()).records).length >= BACKLOG_SAMPLES,
    );
    const backlog = spooledSampleTimes(readSpool(stateDir()).records);
    expect(backlog.length).toBeGreaterThanOrEqual(BACKLOG_SAMPLES);

    const messagesBefore = await telemetryMessages();
    const startedAt = reconnect();
    const stored = await waitFor(
      'every spooled sample stored',
      async () => {
        const samples = await platform.api.telemetry(deviceId, 5_000);
        const have = new Set(samples.map((sample) => sample.ts));
        return backlog.every((ts) => have.has(ts)) ? samples : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const storedAt = Date.now();
    const drainMs = storedAt - startedAt;
    const connectedAt = Date.parse((await platform.api.device(deviceId)).connectedAt ?? '');
    const messages = (await telemetryMessages()) - messagesBefore;
    console.info(
      `catch-up: ${backlog.length} samples in ${messages} messages, all stored ${drainMs} ms after the box` +
        ` started, ${storedAt - connectedAt} ms after it connected`,
    );

    // Each sample once: a sample re-sent under another (seq, idx) would be stored twice.
    expect(new Set(stored.map((sample) => sample.ts)).size).toBe(stored.length);
    // Coalesced: one message per sample before; now at most 1,000 samples (or ~240 KiB) a message.
    expect(messages).toBeLessThanOrEqual(Math.ceil(backlog.length / 50));
    // Within seconds of connecting (the box's own start-up is not the point, and slow on a busy machine).
    expect(storedAt - connectedAt).toBeLessThan(15_000);
    expect(await gapsMetric()).toBe(0);
    expect(await delivery()).toMatchObject({ sequenceGaps: 0, spoolDropped: 0 });
    await spoolEmpty();
  });

  it('counts exactly the records a full spool dropped as sequence gaps, explained by the box drop count', async () => {
    // The smallest spool the agent takes: a few dozen samples fit, the oldest segments go when it is full.
    const small = { AGENTBOX_SPOOL_MAX_BYTES: String(64 * 1024) };
    await fillSpoolOffline(small, () => readSpool(stateDir()).dropped >= 50);
    const { records, dropped } = readSpool(stateDir());
    const kept = spooledSampleTimes(records);
    expect(dropped).toBeGreaterThanOrEqual(50);

    const gapsBefore = await gapsMetric();
    reconnect();
    await waitFor(
      'what the spool kept stored',
      async () => {
        const have = new Set((await platform.api.telemetry(deviceId, 5_000)).map((sample) => sample.ts));
        return kept.every((ts) => have.has(ts)) || undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await spoolEmpty();
    console.info(`catch-up with loss: the spool dropped ${dropped} records, kept ${kept.length} samples`);
    // Counted once the box has moved past the missing ids: with the first message after the drops.
    expect((await gapsMetric()) - gapsBefore).toBe(dropped);
    expect(await delivery()).toMatchObject({ sequenceGaps: dropped, spoolDropped: dropped });
  });
});
