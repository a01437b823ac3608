import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceEventRow } from '../src/modules/telemetry/device-event.entity.js';
import { DeviceEventsStore } from '../src/modules/telemetry/device-events.store.js';
import type { AppConfig } from '../src/config/app-config.js';
import { TelemetryRetentionService } from '../src/modules/telemetry/telemetry-retention.service.js';
import { TelemetryRollupService } from '../src/modules/telemetry/telemetry-rollup.service.js';
import {
  HOUR_MS,
  MINUTE_MS,
  ROLLUP_DELAY_MS,
  TelemetryRollupsStore,
  type RollupPass,
} from '../src/modules/telemetry/telemetry-rollups.store.js';
import { TelemetrySampleRow } from '../src/modules/telemetry/telemetry-sample.entity.js';
import { TelemetryStore, type NewTelemetrySample } from '../src/modules/telemetry/telemetry.store.js';
import { telemetryDrivers, type OpenedTelemetryDatabase } from './support/telemetry-database.js';

/** 10:00 UTC on a fixed day: every figure below is relative to it. */
const T0 = Date.UTC(2027, 2, 1, 10);
const SECOND = 1_000;

/** A box reporting every 10 s from `from` for `count` samples: cpu goes 0, 1, 2, ... and temp stays 40. */
function reports(deviceId: string, from: number, count: number, firstSeq = 1): NewTelemetrySample[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId,
    seq: firstSeq + i,
    idx: 0,
    ts: from + i * 10 * SECOND,
    values: { 'cpu.usage_pct': i, 'temp.cpu_c': 40 },
  }));
}

/** What a bucket of `reports` must hold: min, max and average of cpu over the samples in [from, to). */
function expectedCpu(from: number, to: number, start: number) {
  const values: number[] = [];
  for (let ts = from; ts < to; ts += 10 * SECOND) values.push((ts - start) / (10 * SECOND));
  return {
    min: Math.min(...values),
    max: Math.max(...values),
    avg: values.reduce((sum, value) => sum + value, 0) / values.length,
  };
}

for (const driver of telemetryDrivers) {
  describe(`telemetry rollups on ${driver.name}`, async () => {
    const available = await driver.available();
    let opened: OpenedTelemetryDatabase;
    let samples: TelemetryStore;
    let sut: TelemetryRollupsStore;

    beforeAll(async () => {
      if (!available) return;
      opened = await driver.open();
      samples = new TelemetryStore(opened.dataSource, opened.dataSource.getRepository(TelemetrySampleRow));
      sut = new TelemetryRollupsStore(opened.dataSource);
      // Three hours of two boxes, stored as they came in (none late: `now` is the first sample's time).
      for (let hour = 0; hour < 3; hour += 1) {
        const from = T0 + hour * HOUR_MS;
        await samples.insertBatch(reports('box-a', from, 360, 1 + hour * 360), from);
        await samples.insertBatch(reports('box-b', from, 360, 1 + hour * 360), from);
      }
    });
    afterAll(async () => {
      await opened?.cleanup();
    });

    it.skipIf(!available)('rolls minutes from the samples and hours from the minutes, exactly', async () => {
      const now = T0 + 3 * HOUR_MS + ROLLUP_DELAY_MS;
      const pass = await sut.rollUp(now);

      expect(pass).toMatchObject({ ran: true, minuteBuckets: 2 * 180, hourBuckets: 2 * 3, lateBoxes: 0 });
      expect(pass.doneUntil).toEqual({ minute: T0 + 3 * HOUR_MS, hour: T0 + 3 * HOUR_MS });

      const minutes = await sut.series('box-a', MINUTE_MS, T0, T0 + 3 * HOUR_MS);
      expect(minutes).toHaveLength(180);
      // The 61st minute holds samples 366..371 of the second hour's run (cpu restarts at 0 each hour).
      const minute = minutes[61]!;
      const hourStart = T0 + HOUR_MS;
      const cpu = expectedCpu(minute.ts, minute.ts + MINUTE_MS, hourStart);
      expect(minute.ts).toBe(T0 + 61 * MINUTE_MS);
      expect(minute.values['cpu.usage_pct']).toBeCloseTo(cpu.avg, 9);
      expect(minute.min?.['cpu.usage_pct']).toBe(cpu.min);
      expect(minute.max?.['cpu.usage_pct']).toBe(cpu.max);
      expect(minute.values['temp.cpu_c']).toBe(40);

      const hours = await sut.series('box-a', HOUR_MS, T0, T0 + 3 * HOUR_MS);
      expect(hours.map((point) => point.ts)).toEqual([T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS]);
      for (const hour of hours) {
        expect(hour.values['cpu.usage_pct']).toBeCloseTo(179.5, 9); // the average of 0..359
        expect(hour.min?.['cpu.usage_pct']).toBe(0);
        expect(hour.max?.['cpu.usage_pct']).toBe(359);
      }

      // The same pass again changes nothing and writes nothing.
      expect(await sut.rollUp(now)).toMatchObject({ minuteBuckets: 0, hourBuckets: 0 });
      expect(await sut.series('box-a', HOUR_MS, T0, T0 + 3 * HOUR_MS)).toEqual(hours);
    });

    it.skipIf(!available)(
      'serves what is not rolled up yet from the samples, as the same buckets',
      async () => {
        // Five more minutes arrive; no pass has run over them.
        const from = T0 + 3 * HOUR_MS;
        await samples.insertBatch(reports('box-a', from, 30, 10_000), from);
        const minutes = await sut.series('box-a', MINUTE_MS, from - 2 * MINUTE_MS, from + 5 * MINUTE_MS);
        expect(minutes.map((point) => (point.ts - from) / MINUTE_MS)).toEqual([-2, -1, 0, 1, 2, 3, 4]);
        expect(minutes[2]!.values['cpu.usage_pct']).toBeCloseTo(2.5, 9); // 0..5

        // The fourth hour, from its minutes and samples, before any hour bucket exists for it.
        const hours = await sut.series('box-a', HOUR_MS, T0, from + HOUR_MS);
        expect(hours).toHaveLength(4);
        expect(hours[3]).toMatchObject({
          ts: from,
          min: { 'cpu.usage_pct': 0 },
          max: { 'cpu.usage_pct': 29 },
        });
      },
    );

    it.skipIf(!available)(
      'rolls up again the buckets of samples stored late, by the box that sent them',
      async () => {
        // box-b was offline during the first minutes of 10:30; they arrive two hours later.
        const missing = T0 + 30 * MINUTE_MS;
        const before = await sut.series('box-b', MINUTE_MS, missing, missing + MINUTE_MS);
        expect(before[0]!.values['cpu.usage_pct']).toBeCloseTo(182.5, 9); // samples 180..185
        await samples.insertBatch(
          [
            {
              deviceId: 'box-b',
              seq: 50_000,
              idx: 0,
              ts: missing + 5 * SECOND,
              values: { 'cpu.usage_pct': 1000 },
            },
          ],
          T0 + 3 * HOUR_MS,
        );

        const pass = await sut.rollUp(T0 + 3 * HOUR_MS + ROLLUP_DELAY_MS + MINUTE_MS);
        expect(pass.lateBoxes).toBe(1);
        const minute = await sut.series('box-b', MINUTE_MS, missing, missing + MINUTE_MS);
        expect(minute[0]!.max?.['cpu.usage_pct']).toBe(1000);
        expect(minute[0]!.values['cpu.usage_pct']).toBeCloseTo(
          (180 + 181 + 182 + 183 + 184 + 185 + 1000) / 7,
          9,
        );
        const hour = await sut.series('box-b', HOUR_MS, T0, T0 + HOUR_MS);
        expect(hour[0]!.max?.['cpu.usage_pct']).toBe(1000);
        expect(hour[0]!.values['cpu.usage_pct']).toBeCloseTo((179.5 * 360 + 1000) / 361, 9);
        // box-a was not touched.
        const other = await sut.series('box-a', HOUR_MS, T0, T0 + HOUR_MS);
        expect(other[0]!.max?.['cpu.usage_pct']).toBe(359);
        // The late span is used up.
        expect((await sut.rollUp(T0 + 3 * HOUR_MS + ROLLUP_DELAY_MS + MINUTE_MS)).lateBoxes).toBe(0);
      },
    );

    it.skipIf(!available)(
      'keeps minutes and hours for their own retention, longer than the samples',
      async () => {
        const config = opened.config; // samples 7 days, minutes 30, hours 400 (defaults)
        const retention = new TelemetryRetentionService(
          config,
          samples,
          new DeviceEventsStore(opened.dataSource.getRepository(DeviceEventRow)),
          sut,
        );
        const DAY = 24 * HOUR_MS;
        await retention.runOnce(T0 + 20 * DAY);
        expect(await samples.range('box-a', T0, T0 + 3 * HOUR_MS, 10)).toEqual([]);
        expect(await sut.series('box-a', HOUR_MS, T0, T0 + 3 * HOUR_MS)).toHaveLength(3);
        expect((await sut.series('box-a', MINUTE_MS, T0, T0 + HOUR_MS)).length).toBe(60);

        await retention.runOnce(T0 + 40 * DAY);
        expect(await sut.series('box-a', MINUTE_MS, T0, T0 + HOUR_MS)).toEqual([]);
        expect(await sut.series('box-a', HOUR_MS, T0, T0 + 3 * HOUR_MS)).toHaveLength(3);
      },
    );
  });
}

describe('telemetry rollup service', () => {
  it('runs the passes asked for one after another, never two at once', async () => {
    let running = 0;
    let most = 0;
    const passes: number[] = [];
    // Only the scheduling is under test here: the store's passes are counted, not run.
    const store = {
      rollUp: async (now: number): Promise<RollupPass> => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
        passes.push(now);
        return {
          ran: true,
          minuteBuckets: 0,
          hourBuckets: 0,
          lateBoxes: 0,
          doneUntil: { minute: null, hour: null },
        };
      },
    } as unknown as TelemetryRollupsStore;
    const sut = new TelemetryRollupService({ telemetryRetentionDays: 7 } as AppConfig, store);

    await Promise.all([sut.runOnce(1), sut.runOnce(2), sut.runOnce(3)]);

    expect(passes).toEqual([1, 2, 3]);
    expect(most).toBe(1);
  });
});
