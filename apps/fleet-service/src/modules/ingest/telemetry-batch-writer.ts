import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { TelemetryMessage, TelemetrySample } from '@agentbox/schemas';
import { DEVICE_REGISTRY, type DeviceRegistryPort } from '../../common/ports.js';
import { groupByDevice, uniqueBy } from '../../common/collections.js';
import { LiveEventsService, type StoredTelemetry } from '../live/live-events.service.js';
import { TelemetryStore, type NewTelemetrySample } from '../telemetry/telemetry.store.js';
import {
  BATCH_WRITER_OPTIONS,
  BatchBuffer,
  type BatchSink,
  type BatchWriterOptions,
} from './batch-buffer.js';
import type { Settle } from '../../common/settlement.js';
import { isStoreFault } from '../../database/database-errors.js';
import { DatabaseProbe } from '../../database/database-probe.js';
import { IngestMetrics } from './ingest-metrics.js';

interface Pending {
  rows: NewTelemetrySample[];
  receivedAt: number[];
}

interface Written {
  /** The batch's rows once redeliveries within it are removed. */
  rows: NewTelemetrySample[];
  /** Those not stored before. */
  inserted: NewTelemetrySample[];
}

/**
 * Buffers telemetry from every box and writes it in ONE transaction per batch (every ~200 ms or 1000
 * samples), instead of one transaction per message; after the commit it bumps lastSeenAt of the boxes
 * in one write and tells the console's live streams (samples only while a stream is open, see
 * LiveEventsService.publishTelemetry).
 */
@Injectable()
export class TelemetryBatchWriter implements OnApplicationShutdown {
  private readonly buffer: BatchBuffer<Pending, Written>;

  constructor(
    private readonly store: TelemetryStore,
    @Inject(DEVICE_REGISTRY) private readonly registry: DeviceRegistryPort,
    private readonly live: LiveEventsService,
    private readonly metrics: IngestMetrics,
    @Inject(BATCH_WRITER_OPTIONS) options: BatchWriterOptions,
    database: DatabaseProbe,
  ) {
    const sink: BatchSink<Pending, Written> = {
      newBatch: () => ({ rows: [], receivedAt: [] }),
      sizeOf: (batch) => batch.rows.length,
      write: (batch) => this.write(batch),
      afterCommit: (batch, written) => this.afterCommit(batch, written),
      refused: (count, held) => this.metrics.drop('overloaded', count, `buffer holds ${held} samples`),
      lost: (batch, error) => this.metrics.drop('store_failed', dedupe(batch.rows).length, error.message),
      storeWritable: () => database.writable(),
      storeFault: isStoreFault,
    };
    this.buffer = new BatchBuffer(sink, options);
  }

  /** Batches committed so far (tests assert on batching with it). */
  get batches(): number {
    return this.buffer.batches;
  }

  /** `settle` hears once the message's samples are committed (docs/protocol.md, "Acknowledged means stored"). */
  add(deviceId: string, message: TelemetryMessage, receivedAt: number, settle?: Settle): void {
    this.buffer.add(
      message.samples.length,
      (batch) => {
        message.samples.forEach((sample, idx) => {
          batch.rows.push({ deviceId, seq: message.seq, idx, ts: sample.ts, values: sample.values });
        });
        batch.receivedAt.push(receivedAt);
      },
      settle,
    );
  }

  /** Writes whatever is buffered; resolves once it is committed (or dropped as refused). */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  /** Writes what is buffered before the process ends; with the database away, it stays unacknowledged. */
  async onApplicationShutdown(): Promise<void> {
    await this.buffer.close();
  }

  private async write(batch: Pending): Promise<Written> {
    const rows = dedupe(batch.rows);
    return { rows, inserted: await this.store.insertBatch(rows) };
  }

  private async afterCommit(batch: Pending, { rows, inserted }: Written): Promise<void> {
    const committedAt = Date.now();
    this.metrics.batchSize.observe(rows.length);
    for (const receivedAt of batch.receivedAt)
      this.metrics.latency.observe((committedAt - receivedAt) / 1000);
    const duplicates = batch.rows.length - inserted.length;
    if (duplicates > 0) this.metrics.duplicates.inc(duplicates);
    const deviceIds = [...new Set(batch.rows.map((row) => row.deviceId))];
    try {
      await this.registry.touch(deviceIds, new Date(committedAt));
    } catch (error) {
      this.metrics.failure('touch', `Updating lastSeenAt failed: ${(error as Error).message}`);
    }
    const byDevice = groupByDevice(inserted);
    this.live.publishTelemetry(storedRanges(byDevice), () => {
      const samples = new Map<string, TelemetrySample[]>();
      for (const [deviceId, rows] of byDevice)
        samples.set(
          deviceId,
          rows.map((row) => ({ ts: row.ts, values: row.values })),
        );
      return samples;
    });
  }
}

/** Per box, the seq and ts spans it stored: what other replicas read back (live-events.service.ts). */
function storedRanges(byDevice: Map<string, NewTelemetrySample[]>): StoredTelemetry[] {
  const ranges: StoredTelemetry[] = [];
  for (const [deviceId, rows] of byDevice) {
    const first = rows[0]!;
    const range = { deviceId, fromSeq: first.seq, toSeq: first.seq, fromTs: first.ts, toTs: first.ts };
    for (const row of rows) {
      range.fromSeq = Math.min(range.fromSeq, row.seq);
      range.toSeq = Math.max(range.toSeq, row.seq);
      range.fromTs = Math.min(range.fromTs, row.ts);
      range.toTs = Math.max(range.toTs, row.ts);
    }
    ranges.push(range);
  }
  return ranges;
}

/** A message redelivered within the same batch would hit the primary key twice in one statement. */
function dedupe(rows: NewTelemetrySample[]): NewTelemetrySample[] {
  return uniqueBy(rows, (row) => `${row.deviceId}\u0000${row.seq}\u0000${row.idx}`);
}
