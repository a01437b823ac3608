import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type BirthMessage, type LiveEvent, type TelemetryMessage } from '@agentbox/schemas';
import type { DeviceRegistryPort } from '../../common/ports.js';
import { AppConfig } from '../../config/app-config.js';
import { buildDataSourceOptions } from '../../database/data-source-options.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { TelemetrySampleRow } from '../telemetry/telemetry-sample.entity.js';
import { TelemetryStore } from '../telemetry/telemetry.store.js';
import { DatabaseProbe } from '../../database/database-probe.js';
import { IngestMetrics } from './ingest-metrics.js';
import { DEFAULT_BATCH_WRITER_OPTIONS, type BatchWriterOptions } from './batch-buffer.js';
import { TelemetryBatchWriter } from './telemetry-batch-writer.js';

/** The registry port as ingest sees it, recording what the writer asks of it. */
class RecordingRegistry implements DeviceRegistryPort {
  readonly touched: string[][] = [];
  verifyCredentials(): Promise<boolean> {
    return Promise.resolve(true);
  }
  markOnline(): Promise<void> {
    return Promise.resolve();
  }
  markAllOffline(): Promise<number> {
    return Promise.resolve(0);
  }

  markOffline(): Promise<void> {
    return Promise.resolve();
  }
  applyBirth(_id: string, _birth: BirthMessage): Promise<void> {
    return Promise.resolve();
  }
  touch(deviceIds: readonly string[]): Promise<void> {
    this.touched.push([...deviceIds].sort());
    return Promise.resolve();
  }
}

function message(seq: number, samples: number): TelemetryMessage {
  return {
    v: SCHEMA_VERSION,
    seq,
    ts: 1_000,
    samples: Array.from({ length: samples }, (_, i) => ({
      ts: 1_000 + seq * 100 + i,
      values: { 'cpu.usage_pct': i },
    })),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TelemetryBatchWriter', () => {
  let dir: string;
  let dataSource: DataSource;
  let store: TelemetryStore;
  let registry: RecordingRegistry;
  let live: LiveEventsService;
  let metrics: MetricsService;
  let ingestMetrics: IngestMetrics;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentbox-batch-writer-'));
    const config = AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dir });
    dataSource = new DataSource({ ...buildDataSourceOptions(config), entities: [TelemetrySampleRow] });
    await dataSource.initialize();
    store = new TelemetryStore(dataSource, dataSource.getRepository(TelemetrySampleRow));
    registry = new RecordingRegistry();
    live = new LiveEventsService();
    metrics = new MetricsService();
    ingestMetrics = new IngestMetrics(metrics);
  });

  afterEach(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (options: Partial<BatchWriterOptions> = {}) =>
    new TelemetryBatchWriter(
      store,
      registry,
      live,
      ingestMetrics,
      { ...DEFAULT_BATCH_WRITER_OPTIONS, ...options },
      new DatabaseProbe(dataSource),
    );
  const stored = async (deviceId: string) => (await store.query(deviceId, 0, 10_000)).length;
  const counter = async (name: string, labels: Record<string, string> = {}) => {
    const data = await metrics.registry.getSingleMetric(name)!.get();
    return (
      data.values.find((v) =>
        Object.entries(labels).every(([k, e]) => String((v.labels as Record<string, unknown>)[k]) === e),
      )?.value ?? 0
    );
  };

  it('waits for the flush interval, then commits everything buffered in one batch', async () => {
    const sut = make({ flushIntervalMs: 150 });
    sut.add('box-a', message(1, 3), Date.now());
    sut.add('box-b', message(1, 2), Date.now());
    await sleep(50);
    expect(await stored('box-a')).toBe(0);
    await sleep(400);
    expect([await stored('box-a'), await stored('box-b')]).toEqual([3, 2]);
    expect(sut.batches).toBe(1);
    expect(registry.touched).toEqual([['box-a', 'box-b']]);
  });

  it('flushes at once when the batch reaches its sample cap', async () => {
    const sut = make({ flushIntervalMs: 60_000, maxBatchSamples: 10 });
    sut.add('box-a', message(1, 5), Date.now());
    sut.add('box-a', message(2, 5), Date.now());
    await sleep(200);
    expect(await stored('box-a')).toBe(10);
    expect(sut.batches).toBe(1);
  });

  it('turns 500 messages into one transaction, publishes live events after the commit, observes batch size', async () => {
    const sut = make({ flushIntervalMs: 60_000, maxBatchSamples: 100_000 });
    const events: LiveEvent[] = [];
    live.stream().subscribe((event) => events.push(event));
    for (let seq = 1; seq <= 500; seq += 1) sut.add(seq % 2 ? 'box-a' : 'box-b', message(seq, 2), Date.now());
    expect(events).toHaveLength(0);
    await sut.flush();
    expect(sut.batches).toBe(1);
    expect((await stored('box-a')) + (await stored('box-b'))).toBe(1_000);
    expect(
      events.map((e) => (e.type === 'telemetry' ? [e.deviceId, e.samples.length] : null)).sort(),
    ).toEqual([
      ['box-a', 500],
      ['box-b', 500],
    ]);
    const histogram = await metrics.registry.getSingleMetric('agentbox_ingest_batch_size')!.get();
    const sum = histogram.values.find(
      (v) => (v as { metricName?: string }).metricName === 'agentbox_ingest_batch_size_sum',
    );
    expect(sum?.value).toBe(1_000);
  });

  it('counts redelivered samples as duplicates and publishes only new ones', async () => {
    const sut = make({ flushIntervalMs: 60_000 });
    sut.add('box-a', message(7, 4), Date.now());
    await sut.flush();
    sut.add('box-a', message(7, 4), Date.now());
    sut.add('box-a', message(8, 1), Date.now());
    const events: LiveEvent[] = [];
    live.stream().subscribe((event) => events.push(event));
    await sut.flush();
    expect(await counter('agentbox_ingest_duplicates_total')).toBe(4);
    expect(events).toEqual([{ type: 'telemetry', deviceId: 'box-a', samples: [message(8, 1).samples[0]] }]);
  });

  it('drops and counts samples beyond the buffer cap instead of growing without bound', async () => {
    const sut = make({ flushIntervalMs: 60_000, maxBatchSamples: 1_000, maxBufferedSamples: 5 });
    sut.add('box-a', message(1, 4), Date.now());
    sut.add('box-a', message(2, 4), Date.now());
    await sut.flush();
    expect(await stored('box-a')).toBe(4);
    expect(await counter('agentbox_ingest_dropped_samples_total', { reason: 'overloaded' })).toBe(4);
  });

  it('keeps a batch while the database is away and settles its messages only once it is committed', async () => {
    const sut = make({ flushIntervalMs: 60_000, attempts: 2 });
    const settled: string[] = [];
    await dataSource.destroy();
    sut.add('box-a', message(1, 3), Date.now(), (outcome) => settled.push(`1 ${outcome}`));
    sut.add('box-a', message(2, 2), Date.now(), (outcome) => settled.push(`2 ${outcome}`));
    const flushed = sut.flush();
    // Several attempts fail meanwhile (200 ms, 400 ms, 800 ms apart); nothing is dropped or acknowledged.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(settled).toEqual([]);
    expect(sut.batches).toBe(0);
    await dataSource.initialize();
    await flushed;
    expect(settled).toEqual(['1 stored', '2 stored']);
    expect(await stored('box-a')).toBe(5);
    expect(await counter('agentbox_ingest_dropped_samples_total', { reason: 'store_failed' })).toBe(0);
  });

  it('answers busy for messages beyond the buffer cap, so their boxes send them again', async () => {
    const sut = make({ flushIntervalMs: 60_000, maxBufferedSamples: 3 });
    const settled: string[] = [];
    sut.add('box-a', message(1, 3), Date.now(), (outcome) => settled.push(`1 ${outcome}`));
    sut.add('box-a', message(2, 1), Date.now(), (outcome) => settled.push(`2 ${outcome}`));
    expect(settled).toEqual(['2 busy']);
    await sut.flush();
    expect(settled).toEqual(['2 busy', '1 stored']);
  });

  it('flushes what is buffered on shutdown', async () => {
    const sut = make({ flushIntervalMs: 60_000 });
    sut.add('box-a', message(1, 3), Date.now());
    await sut.onApplicationShutdown();
    expect(await stored('box-a')).toBe(3);
  });
});
