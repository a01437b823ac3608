import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { TelemetryMessage } from '@agentbox/schemas';
import { DEVICE_REGISTRY, type DeviceRegistryPort } from '../../common/ports.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { TelemetryStore, type NewTelemetrySample } from '../telemetry/telemetry.store.js';
import { IngestMetrics } from './ingest-metrics.js';

/** Tuning of the batch writer; the defaults suit one SQLite file as well as PostgreSQL. */
export interface BatchWriterOptions {
  /** Flush at the latest this long after the first buffered sample. */
  flushIntervalMs: number;
  /** Flush as soon as this many samples are buffered. */
  maxBatchSamples: number;
  /** Above this many buffered samples (the store is down or too slow), new samples are dropped and counted. */
  maxBufferedSamples: number;
  /** Attempts per batch before its samples are dropped and counted. */
  attempts: number;
}

export const DEFAULT_BATCH_WRITER_OPTIONS: BatchWriterOptions = {
  flushIntervalMs: 200,
  maxBatchSamples: 1_000,
  maxBufferedSamples: 100_000,
  attempts: 3,
};
export const BATCH_WRITER_OPTIONS = Symbol('BATCH_WRITER_OPTIONS');

interface Pending {
  rows: NewTelemetrySample[];
  receivedAt: number[];
}

/**
 * Buffers telemetry from every box and writes it in ONE transaction per batch (every ~200 ms or 1000
 * samples), instead of one transaction per message; after the commit it bumps lastSeenAt of the boxes
 * in one write and publishes the new samples to the console's live stream.
 */
@Injectable()
export class TelemetryBatchWriter implements OnApplicationShutdown {
  private buffer: Pending = { rows: [], receivedAt: [] };
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Batches committed so far (tests assert on batching with it). */
  batches = 0;

  constructor(
    private readonly store: TelemetryStore,
    @Inject(DEVICE_REGISTRY) private readonly registry: DeviceRegistryPort,
    private readonly live: LiveEventsService,
    private readonly metrics: IngestMetrics,
    @Inject(BATCH_WRITER_OPTIONS) private readonly options: BatchWriterOptions,
  ) {}

  add(deviceId: string, message: TelemetryMessage, receivedAt: number): void {
    if (this.buffer.rows.length + message.samples.length > this.options.maxBufferedSamples) {
      this.metrics.drop(
        'overloaded',
        message.samples.length,
        `buffer holds ${this.buffer.rows.length} samples`,
      );
      return;
    }
    message.samples.forEach((sample, idx) => {
      this.buffer.rows.push({ deviceId, seq: message.seq, idx, ts: sample.ts, values: sample.values });
    });
    this.buffer.receivedAt.push(receivedAt);
    if (this.buffer.rows.length >= this.options.maxBatchSamples) {
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
  }

  /** Writes whatever is buffered; resolves once it is committed (or dropped after the last attempt). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (batch.rows.length === 0) return this.flushing;
    this.buffer = { rows: [], receivedAt: [] };
    // One batch at a time: transactions never overlap on SQLite's single writer.
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private async write(batch: Pending): Promise<void> {
    const rows = dedupe(batch.rows);
    let inserted: NewTelemetrySample[] | undefined;
    for (let attempt = 1; attempt <= this.options.attempts && inserted === undefined; attempt += 1) {
      try {
        inserted = await this.store.insertBatch(rows);
      } catch (error) {
        if (attempt === this.options.attempts) {
          this.metrics.drop('store_failed', rows.length, (error as Error).message);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
    if (inserted === undefined) return;
    const committedAt = Date.now();
    this.batches += 1;
    this.metrics.batchSize.observe(rows.length);
    for (const receivedAt of batch.receivedAt)
      this.metrics.latency.observe((committedAt - receivedAt) / 1000);
    const duplicates = batch.rows.length - inserted.length;
    if (duplicates > 0) this.metrics.duplicates.inc(duplicates);
    await this.afterCommit(batch.rows, inserted, new Date(committedAt));
  }

  private async afterCommit(
    all: NewTelemetrySample[],
    inserted: NewTelemetrySample[],
    at: Date,
  ): Promise<void> {
    const deviceIds = [...new Set(all.map((row) => row.deviceId))];
    try {
      await this.registry.touch(deviceIds, at);
    } catch (error) {
      this.metrics.failure('touch', `Updating lastSeenAt failed: ${(error as Error).message}`);
    }
    const byDevice = new Map<string, NewTelemetrySample[]>();
    for (const row of inserted) {
      const list = byDevice.get(row.deviceId) ?? [];
      list.push(row);
      byDevice.set(row.deviceId, list);
    }
    for (const [deviceId, rows] of byDevice) {
      this.live.publish({
        type: 'telemetry',
        deviceId,
        samples: rows.map((row) => ({ ts: row.ts, values: row.values })),
      });
    }
  }
}

/** A message redelivered within the same batch would hit the primary key twice in one statement. */
function dedupe(rows: NewTelemetrySample[]): NewTelemetrySample[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = `${row.deviceId}\u0000${row.seq}\u0000${row.idx}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
