import { postgresReachable } from '@agentbox/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceEventRow } from '../src/modules/telemetry/device-event.entity.js';
import { DeviceEventsStore } from '../src/modules/telemetry/device-events.store.js';
import { TelemetryRetentionService } from '../src/modules/telemetry/telemetry-retention.service.js';
import { TelemetrySampleRow } from '../src/modules/telemetry/telemetry-sample.entity.js';
import { TelemetryRollupsStore } from '../src/modules/telemetry/telemetry-rollups.store.js';
import { TelemetryStore, type NewTelemetrySample } from '../src/modules/telemetry/telemetry.store.js';
import {
  telemetryDrivers as drivers,
  type OpenedTelemetryDatabase as Opened,
} from './support/telemetry-database.js';
import {
  DAYS_AHEAD,
  DEFAULT_PARTITION,
  createPartition,
  listPartitions,
} from '../src/modules/telemetry/telemetry-partitions.js';

const DAY = 24 * 60 * 60 * 1000;

function samples(deviceId: string, seq: number, count: number, ts: number): NewTelemetrySample[] {
  return Array.from({ length: count }, (_, idx) => ({
    deviceId,
    seq,
    idx,
    ts: ts + idx,
    values: { 'cpu.usage_pct': idx },
  }));
}

for (const driver of drivers) {
  describe(`telemetry storage on ${driver.name}`, async () => {
    const available = await driver.available();
    let opened: Opened;
    let sut: TelemetryStore;

    beforeAll(async () => {
      if (!available) return;
      opened = await driver.open();
      sut = new TelemetryStore(opened.dataSource, opened.dataSource.getRepository(TelemetrySampleRow));
    });
    afterAll(async () => {
      await opened?.cleanup();
    });

    it.skipIf(!available)(
      'inserts a batch once: a redelivery inserts nothing, even within one batch',
      async () => {
        const batch = samples('box-a', 1, 3, 1_000);
        expect(await sut.insertBatch(batch)).toHaveLength(3);
        expect(await sut.insertBatch([...batch, ...samples('box-a', 2, 2, 2_000)])).toEqual(
          samples('box-a', 2, 2, 2_000),
        );
        expect(await sut.insertBatch(samples('box-a', 2, 2, 2_000))).toEqual([]);
        expect(await sut.query('box-a', 0, 100)).toHaveLength(5);
      },
    );

    it.skipIf(!available)('writes batches larger than one statement in one transaction', async () => {
      const batch = samples('box-big', 7, 4_500, 10_000);
      expect(await sut.insertBatch(batch)).toHaveLength(4_500);
      expect(await sut.query('box-big', 0, 5_000)).toHaveLength(4_500);
    });

    it.skipIf(!available)('reads oldest first from `since`, or the latest `limit` samples', async () => {
      await sut.insertBatch([...samples('box-q', 1, 5, 100), ...samples('box-q', 2, 5, 200)]);
      const since = await sut.query('box-q', 202, 2);
      expect(since.map((row) => [row.seq, row.idx, row.ts])).toEqual([
        [2, 2, 202],
        [2, 3, 203],
      ]);
      const latest = await sut.query('box-q', undefined, 3);
      expect(latest.map((row) => row.ts)).toEqual([202, 203, 204]);
      expect(latest[0]?.values).toEqual({ 'cpu.usage_pct': 2 });
      expect(typeof latest[0]?.seq).toBe('number');
      expect(await sut.query('box-unknown', 0, 10)).toEqual([]);
    });

    it.skipIf(!available)('retention deletes samples and events older than the configured days', async () => {
      const now = Date.now();
      await sut.insertBatch([
        ...samples('box-r', 1, 2, now - 8 * DAY),
        ...samples('box-r', 2, 2, now - 1 * DAY),
      ]);
      const events = new DeviceEventsStore(opened.dataSource.getRepository(DeviceEventRow));
      await events.insert('box-r', {
        v: 1,
        seq: 1,
        ts: now - 9 * DAY,
        events: [{ type: 'x', level: 'info', message: 'old' }],
      });
      await events.insert('box-r', {
        v: 1,
        seq: 2,
        ts: now,
        events: [{ type: 'x', level: 'info', message: 'new' }],
      });
      const retention = new TelemetryRetentionService(
        opened.config,
        sut,
        events,
        new TelemetryRollupsStore(opened.dataSource),
      );
      expect(await retention.runOnce(now)).toBeGreaterThanOrEqual(2);
      expect((await sut.query('box-r', 0, 10)).map((row) => row.seq)).toEqual([2, 2]);
      expect((await events.latest('box-r', 10)).map((event) => event.message)).toEqual(['new']);
    });
  });
}

describe('telemetry partitions on PostgreSQL', async () => {
  const available = await postgresReachable();
  let opened: Opened;
  let sut: TelemetryStore;
  const where = async (deviceId: string) =>
    (
      await opened.dataSource.query<Array<{ partition: string }>>(
        'SELECT tableoid::regclass::text AS partition FROM telemetry_samples WHERE device_id = $1 ORDER BY ts',
        [deviceId],
      )
    ).map((row) => row.partition);

  beforeAll(async () => {
    if (!available) return;
    opened = await drivers[1]!.open();
    sut = new TelemetryStore(opened.dataSource, opened.dataSource.getRepository(TelemetrySampleRow));
  });
  afterAll(async () => {
    await opened?.cleanup();
  });

  it.skipIf(!available)(
    'keeps samples in daily partitions made ahead, moves early arrivals out of the default one, and drops old days whole',
    async () => {
      // A day of its own: the migration made today's partition already.
      const now = Date.UTC(2027, 5, 15, 12);
      const kinds = await opened.dataSource.query<Array<{ relkind: string }>>(
        "SELECT relkind FROM pg_class WHERE oid = 'telemetry_samples'::regclass",
      );
      expect(kinds).toEqual([{ relkind: 'p' }]);
      // Before the service made partitions, a sample lands in the default partition.
      await sut.insertBatch(samples('box-p', 1, 1, now));
      expect(await where('box-p')).toEqual([DEFAULT_PARTITION]);

      const created = await sut.preparePartitions(now);
      expect(created).toHaveLength(DAYS_AHEAD + 2);
      expect(created[0]).toBe('telemetry_samples_p20270614');
      expect(await where('box-p')).toEqual(['telemetry_samples_p20270615']);
      expect(await sut.preparePartitions(now)).toEqual([]);

      // A sample far from today (a box with a wrong clock) still has a home; so does a redelivery.
      await sut.insertBatch([
        ...samples('box-p', 2, 1, now + 60 * DAY),
        ...samples('box-p', 3, 1, now - 10 * DAY),
      ]);
      expect(await sut.insertBatch(samples('box-p', 1, 1, now))).toEqual([]);
      expect(await where('box-p')).toEqual([
        DEFAULT_PARTITION,
        'telemetry_samples_p20270615',
        DEFAULT_PARTITION,
      ]);

      // Retention (7 days): yesterday's and today's partitions stay, the default partition's old row goes.
      const oldDay = 'telemetry_samples_p20270520';
      await sut.insertBatch(samples('box-old', 1, 1, Date.UTC(2027, 4, 20, 5)));
      await createPartition(
        (sql, parameters) => opened.dataSource.query(sql, parameters),
        Date.UTC(2027, 4, 20),
      );
      expect(await where('box-old')).toEqual([oldDay]);
      const retention = new TelemetryRetentionService(
        opened.config,
        sut,
        new DeviceEventsStore(opened.dataSource.getRepository(DeviceEventRow)),
        new TelemetryRollupsStore(opened.dataSource),
      );
      expect(await retention.runOnce(now)).toBe(1);
      const partitions = await listPartitions((sql, parameters) => opened.dataSource.query(sql, parameters));
      expect(partitions).not.toContain(oldDay);
      expect(partitions).toContain('telemetry_samples_p20270614');
      expect(await where('box-old')).toEqual([]);
      expect(await where('box-p')).toEqual(['telemetry_samples_p20270615', DEFAULT_PARTITION]);
    },
  );
});
