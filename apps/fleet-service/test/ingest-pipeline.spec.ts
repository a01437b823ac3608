import { rmSync } from 'node:fs';
import {
  dropSchema,
  postgresReachable,
  randomSchemaName,
  syntheticSamples,
  TEST_POSTGRES_URL,
  type SimulatedBox,
} from '@agentbox/test-support';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataSourceOptions } from '../src/database/data-source-options.js';
import { TelemetrySampleRow } from '../src/modules/telemetry/telemetry-sample.entity.js';
import { topics, type LiveEvent } from '@agentbox/schemas';
import { DesiredStateService } from '../src/modules/desired-state/desired-state.service.js';
import { TelemetryBatchWriter } from '../src/modules/ingest/telemetry-batch-writer.js';
import { LiveEventsService } from '../src/modules/live/live-events.service.js';
import { DeviceEventsStore } from '../src/modules/telemetry/device-events.store.js';
import { TelemetryStore } from '../src/modules/telemetry/telemetry.store.js';
import { SpoolMarksStore } from '../src/modules/telemetry/spool-marks.store.js';
import { TelemetryService } from '../src/modules/telemetry/telemetry.service.js';
import {
  connectBox,
  enrollBox,
  metricValue,
  startMqttSide,
  useMqttSide,
  waitFor,
  type MqttSide,
} from './broker-harness.js';

describe('ingest over the embedded broker, into a real SQLite file', () => {
  const { side, a, b, connect } = useMqttSide('hw-ingest');
  let boxA: SimulatedBox;
  let boxB: SimulatedBox;
  let store: TelemetryStore;

  beforeAll(async () => {
    boxA = await connect(a);
    boxB = await connect(b);
    store = side.app.get(TelemetryStore);
  });

  const rejected = (reason: string) => metricValue(side, 'agentbox_ingest_rejections_total', { reason });

  it('rejects bad messages by reason and keeps serving another box', async () => {
    const before = {
      payload_too_large: await rejected('payload_too_large'),
      malformed_json: await rejected('malformed_json'),
      invalid_schema: await rejected('invalid_schema'),
      unknown_topic: await rejected('unknown_topic'),
      topic_mismatch: await rejected('topic_mismatch'),
    };
    const seqB = boxB.nextSeq();
    // Over the 16 KiB payload cap but under the broker's packet cap: ingest refuses it.
    await boxA.publishRaw(topics.telemetry(a.deviceId), Buffer.alloc(20 * 1024, 0x20));
    await boxA.publishRaw(topics.telemetry(a.deviceId), '{"v":1,');
    await boxA.publishRaw(topics.telemetry(a.deviceId), '{"v":1,"seq":1,"ts":1,"samples":[]}');
    // An unknown channel does not even reach ingest: the broker refuses it (docs/protocol.md section 8).
    const unknownChannel = await metricValue(side, 'agentbox_mqtt_rejections_total', {
      reason: 'unknown_channel',
    });
    await expect(boxA.publishRaw(`agentbox/v1/devices/${a.deviceId}/up/nonsense`, '{}')).rejects.toThrow(
      /Not authorized/,
    );
    expect(await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'unknown_channel' })).toBe(
      unknownChannel + 1,
    );
    await boxA.publishRaw(
      topics.result(a.deviceId, 'cmd-1'),
      boxA.encode({ commandId: 'cmd-2', status: 'succeeded' }),
    );
    await boxB.telemetry(syntheticSamples(3), { seq: seqB });

    await waitFor(
      'box B telemetry stored',
      async () => (await store.query(b.deviceId, 0, 100)).length === 3 || undefined,
    );
    await waitFor(
      'rejections counted',
      async () => (await rejected('topic_mismatch')) === before.topic_mismatch + 1,
    );
    expect(await rejected('payload_too_large')).toBe(before.payload_too_large + 1);
    expect(await rejected('malformed_json')).toBe(before.malformed_json + 1);
    expect(await rejected('invalid_schema')).toBe(before.invalid_schema + 1);
    expect(await rejected('unknown_topic')).toBe(before.unknown_topic);
    expect(boxA.connected).toBe(true);
    expect(await store.query(a.deviceId, 0, 100)).toHaveLength(0);
  });

  it('drops redelivered telemetry by (deviceId, seq, sample index) and counts the duplicates', async () => {
    const seq = boxA.nextSeq();
    const ts = Date.now();
    const publish = () => boxA.telemetry(syntheticSamples(4, ts), { seq, ts });
    const before = await metricValue(side, 'agentbox_ingest_duplicates_total');
    await publish();
    await side.ingest.drain();
    // The same message again, once in a later batch and twice within one batch.
    await publish();
    await publish();
    await side.ingest.drain();
    await publish();
    await waitFor(
      'duplicates counted',
      async () => (await metricValue(side, 'agentbox_ingest_duplicates_total')) === before + 12,
    );
    const rows = (await store.query(a.deviceId, 0, 1000)).filter((row) => row.seq === seq);
    expect(rows.map((row) => row.values['cpu.usage_pct'])).toEqual([0, 1, 2, 3]);
  });

  it('counts spool records that never arrive as sequence gaps, never a redelivery, and keeps the mark', async () => {
    const epoch = 'c0ffee0000000001';
    const seqs = new Map<number, number>();
    // Resolves on the PUBACK, which the embedded broker sends once the message is stored.
    const send = (first: number, last: number, acked: number) => {
      if (!seqs.has(first)) seqs.set(first, boxB.nextSeq());
      return boxB.publish(
        'telemetry',
        {
          samples: syntheticSamples(last - first + 1, 5_000_000 + first * 10),
          spool: { epoch, first, last, acked, dropped: 0 },
        },
        { seq: seqs.get(first) },
      );
    };
    const gaps = () => metricValue(side, 'agentbox_ingest_sequence_gaps_total');
    const before = await gaps();
    await send(1, 3, 0);
    await send(1, 3, 0); // a redelivery
    await send(4, 5, 3);
    // 6 and 7 never arrive; 8-9 went in the same round (acked is still 5): they may yet come.
    await send(8, 9, 5);
    expect(await gaps()).toBe(before);
    await send(6, 7, 5); // they came: a publish retried
    await send(10, 10, 9);
    expect(await gaps()).toBe(before);
    // 11-12 never arrive, and the box has moved past them.
    await send(13, 14, 12);
    expect(await gaps()).toBe(before + 2);
    // Written before the acknowledgement: a restart goes on from here.
    expect(await side.app.get(SpoolMarksStore).get(b.deviceId)).toMatchObject({ epoch, high: 14, gaps: 2 });
    expect(await side.app.get(TelemetryService).delivery(b.deviceId)).toMatchObject({
      sequenceGaps: 2,
      spoolDropped: 0,
      lastRecordId: 14,
    });
  });

  it('writes many messages in few transactions, then touches the boxes and publishes live events', async () => {
    const writer = side.app.get(TelemetryBatchWriter);
    const live: LiveEvent[] = [];
    const subscription = side.app
      .get(LiveEventsService)
      .stream()
      .subscribe((event) => live.push(event));
    const batchesBefore = writer.batches;
    const firstSeq = boxA.nextSeq();
    const messages = 200;
    const publishes: Array<Promise<unknown>> = [];
    for (let i = 0; i < messages; i += 1) {
      const seq = firstSeq + 1_000 + i;
      const ts = 1_000_000 + i * 10;
      publishes.push(boxA.telemetry(syntheticSamples(5, ts), { seq, ts }));
      publishes.push(boxB.telemetry(syntheticSamples(5, ts), { seq, ts }));
    }
    await Promise.all(publishes);
    const stored = async (id: string) =>
      (await store.query(id, 1_000_000, 5_000)).filter((row) => row.ts < 2_000_000).length;
    await waitFor(
      'all samples stored',
      async () => (await stored(a.deviceId)) === messages * 5 && (await stored(b.deviceId)) === messages * 5,
      20_000,
    );
    await side.ingest.drain();
    subscription.unsubscribe();
    const batches = writer.batches - batchesBefore;
    // 400 messages, 2000 samples: batches of up to 1000 samples or 200 ms, nowhere near one per message.
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(batches).toBeLessThan(40);
    const liveSamples = live
      .filter((event): event is Extract<LiveEvent, { type: 'telemetry' }> => event.type === 'telemetry')
      .reduce((sum, event) => sum + event.samples.length, 0);
    expect(liveSamples).toBe(messages * 5 * 2);
    expect((await side.devices.get(a.deviceId)).lastSeenAt).not.toBeNull();
    expect(
      await metricValue(side, 'agentbox_ingest_messages_total', { channel: 'telemetry' }),
    ).toBeGreaterThanOrEqual(messages * 2);
  });

  it('applies birth, reported state (newest seq wins) and events', async () => {
    await boxA.birth({
      agentVersion: '1.2.3',
      bootId: 'boot-1',
      hardware: { hostname: 'box-a', platform: 'linux', arch: 'x64', cpuCores: 2, memTotalBytes: 1024 },
      capabilities: ['telemetry'],
      metrics: ['cpu.usage_pct'],
      telemetryIntervalSec: 10,
    });
    const newer = boxA.nextSeq() + 10;
    const report = (seq: number, value: string) =>
      boxA.publish('state', { desiredVersion: 0, current: { value } }, { seq });
    await report(newer, 'new');
    await report(newer - 5, 'old');
    const eventSeq = boxA.nextSeq() + 20;
    const events = () =>
      boxA.publish(
        'events',
        {
          events: [
            { type: 'agent.started', level: 'info', message: 'started' },
            { type: 'disk.low', level: 'warn', message: 'disk low', data: { pct: 91 } },
          ],
        },
        { seq: eventSeq },
      );
    await events();
    await events();

    await waitFor(
      'birth applied',
      async () => (await side.devices.get(a.deviceId)).agentVersion === '1.2.3' || undefined,
    );
    await side.ingest.drain();
    const state = await side.app.get(DesiredStateService).get(a.deviceId);
    expect(state.reported).toMatchObject({ seq: newer, current: { value: 'new' }, desiredVersion: 0 });
    expect(state.inSync).toBe(true);
    const stored = await side.app.get(DeviceEventsStore).latest(a.deviceId, 10);
    expect(stored.map((event) => event.type).sort()).toEqual(['agent.started', 'disk.low']);
    expect(stored.find((event) => event.type === 'disk.low')?.data).toEqual({ pct: 91 });
  });
});

describe('ingest shutdown', () => {
  it('commits buffered telemetry when the service stops', async () => {
    // A flush interval far beyond the test: only the shutdown hook can write these samples.
    const side = await startMqttSide({
      AGENTBOX_INGEST_FLUSH_MS: '60000',
      AGENTBOX_INGEST_BATCH_SAMPLES: '20000',
    });
    const { deviceId, secret } = await enrollBox(side, 'hw-ingest-shutdown');
    const box = await connectBox(side, { deviceId, secret });
    const before = await metricValue(side, 'agentbox_ingest_messages_total', { channel: 'telemetry' });
    // Not awaited: the PUBACKs wait for the commit (docs/protocol.md, "Acknowledged means stored"), and
    // the box drops its connection before that, which fails its publishes.
    let acknowledged = 0;
    const publishes = Array.from({ length: 10 }, () =>
      box.telemetry(syntheticSamples(3)).then(
        () => {
          acknowledged += 1;
        },
        () => undefined,
      ),
    );
    await waitFor(
      'messages received',
      async () =>
        (await metricValue(side, 'agentbox_ingest_messages_total', { channel: 'telemetry' })) === before + 10,
    );
    expect(await side.app.get(TelemetryStore).query(deviceId, 0, 100)).toHaveLength(0);
    expect(acknowledged).toBe(0);
    await box.drop();
    await Promise.allSettled(publishes);
    await side.close(true);

    const dataSource = new DataSource({
      ...buildDataSourceOptions(side.config),
      entities: [TelemetrySampleRow],
      migrationsRun: false,
    });
    await dataSource.initialize();
    try {
      expect(await dataSource.getRepository(TelemetrySampleRow).countBy({ deviceId })).toBe(30);
    } finally {
      await dataSource.destroy();
      rmSync(side.config.dataDir, { recursive: true, force: true });
    }
  });
});

describe('ingest into PostgreSQL', async () => {
  const available = await postgresReachable();
  const schema = randomSchemaName('t_ingest');
  let side: MqttSide;

  afterAll(async () => {
    if (!available) return;
    await side?.close();
    await dropSchema(schema);
  });

  it.skipIf(!available)(
    'stores telemetry once, reported state and events, and publishes desired version 0',
    async () => {
      side = await startMqttSide({ DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: schema });
      const { deviceId, secret } = await enrollBox(side, 'hw-ingest-pg');
      const box = await connectBox(side, { deviceId, secret });
      try {
        await box.goOnline();
        expect(await waitFor('desired state', () => box.desired[0], 30_000)).toMatchObject({ version: 0 });
        const seq = box.nextSeq();
        // A redelivery repeats the message: the same samples with the same ts (docs/protocol.md section 2).
        const samples = syntheticSamples(4);
        for (let i = 0; i < 3; i += 1) await box.telemetry(samples, { seq });
        await box.publish('state', { desiredVersion: 0, current: { ok: true } }, { seq: seq + 1 });
        await box.publish(
          'events',
          { events: [{ type: 'x', level: 'info', message: 'hi' }] },
          { seq: seq + 2 },
        );
        await waitFor(
          'state reported',
          async () => (await side.app.get(DesiredStateService).get(deviceId)).reported ?? undefined,
        );
        // A spool position: the box's mark is upserted (PostgreSQL's ON CONFLICT) before the PUBACK.
        const spool = { epoch: 'c0ffee0000000002', first: 1, last: 1, acked: 0, dropped: 0 };
        await box.publish('telemetry', { samples: syntheticSamples(1, 9_000_000), spool }, { seq: seq + 3 });
        const later = { ...spool, first: 3, last: 3, acked: 2 };
        await box.publish(
          'telemetry',
          { samples: syntheticSamples(1, 9_000_010), spool: later },
          { seq: seq + 4 },
        );
        expect(await side.app.get(SpoolMarksStore).get(deviceId)).toMatchObject({ high: 3, gaps: 1 });
        await side.ingest.drain();
        expect(await side.app.get(TelemetryStore).query(deviceId, 0, 100)).toHaveLength(6);
        expect(await metricValue(side, 'agentbox_ingest_duplicates_total')).toBe(8);
        expect(await side.app.get(DeviceEventsStore).latest(deviceId, 10)).toHaveLength(1);
        await side.app.get(DesiredStateService).setDesired(deviceId, { telemetry: { intervalSec: 30 } });
        expect((await side.app.get(DesiredStateService).get(deviceId)).desired).toMatchObject({ version: 1 });
      } finally {
        await box.drop();
      }
    },
  );
});
