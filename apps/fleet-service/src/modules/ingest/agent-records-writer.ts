import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { RunEventsMessage, RunsMessage, UsageMessage } from '@agentbox/schemas';
import { groupByDevice } from '../../common/collections.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { toRunRecord } from '../runs/runs.dto.js';
import { RunsStore, type IncomingRun, type IncomingRunEvent } from '../runs/runs.store.js';
import { UsageStore, type IncomingUsage } from '../usage/usage.store.js';
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
  runs: IncomingRun[];
  events: IncomingRunEvent[];
  usage: IncomingUsage[];
}

/** What the transaction changed: ids of runs inserted or moved on, events and usage records new to the store. */
interface Written {
  runIds: string[];
  /** What modules reacting to changed runs do once the batch is committed. */
  afterRuns: Array<() => void>;
  events: IncomingRunEvent[];
  usage: IncomingUsage[];
}

const sizeOf = (batch: Pending) => batch.runs.length + batch.events.length + batch.usage.length;

/**
 * Buffers run summaries, run events and usage records from every box and writes them in ONE transaction
 * per batch, like telemetry: runs upserted by id (a final status never goes back), events kept once per
 * (runId, index), usage once per record id, so the box's spool may replay anything without double counting.
 * After the commit, what changed goes to the console's live stream.
 */
@Injectable()
export class AgentRecordsWriter implements OnApplicationShutdown {
  private readonly buffer: BatchBuffer<Pending, Written>;

  constructor(
    private readonly runs: RunsStore,
    private readonly usage: UsageStore,
    private readonly live: LiveEventsService,
    private readonly metrics: IngestMetrics,
    @Inject(BATCH_WRITER_OPTIONS) options: BatchWriterOptions,
    database: DatabaseProbe,
  ) {
    const sink: BatchSink<Pending, Written> = {
      newBatch: () => ({ runs: [], events: [], usage: [] }),
      sizeOf,
      write: (batch) => this.write(batch),
      afterCommit: (batch, written) => this.afterCommit(batch, written),
      refused: (count, held) => this.metrics.dropRecords('overloaded', count, `buffer holds ${held} records`),
      lost: (batch, error) => this.metrics.dropRecords('store_failed', sizeOf(batch), error.message),
      storeWritable: () => database.writable(),
      storeFault: isStoreFault,
    };
    // One transaction at a time: a run's later status must not commit before its earlier one.
    this.buffer = new BatchBuffer(sink, { ...options, concurrentBatches: 1 });
  }

  /** Each `settle` hears once the message's records are committed. */
  addRuns(deviceId: string, message: RunsMessage, settle?: Settle): void {
    this.add(
      'runs',
      message.runs.map((run) => ({ deviceId, run })),
      settle,
    );
  }

  addRunEvents(deviceId: string, message: RunEventsMessage, settle?: Settle): void {
    this.add(
      'events',
      message.events.map((event) => ({ deviceId, event })),
      settle,
    );
  }

  addUsage(deviceId: string, message: UsageMessage, settle?: Settle): void {
    this.add(
      'usage',
      message.records.map((record) => ({ deviceId, record })),
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

  private add<K extends keyof Pending>(field: K, items: Pending[K], settle: Settle | undefined): void {
    this.buffer.add(items.length, (batch) => (batch[field] as Pending[K][number][]).push(...items), settle);
  }

  private write(batch: Pending): Promise<Written> {
    return this.runs.transaction(async (manager) => {
      const runIds = batch.runs.length > 0 ? await this.runs.upsertRuns(manager, batch.runs) : [];
      return {
        runIds,
        afterRuns: await this.runs.runsChanged(manager, batch.runs, runIds),
        events: batch.events.length > 0 ? await this.runs.insertEvents(manager, batch.events) : [],
        usage: batch.usage.length > 0 ? await this.usage.insert(manager, batch.usage) : [],
      };
    });
  }

  private async afterCommit(batch: Pending, written: Written): Promise<void> {
    this.metrics.recordDuplicates('run-events', batch.events.length - written.events.length);
    this.metrics.recordDuplicates('usage', batch.usage.length - written.usage.length);
    try {
      for (const row of await this.runs.findByIds(written.runIds)) {
        this.live.publish({ type: 'run', deviceId: row.deviceId, run: toRunRecord(row) });
      }
    } catch (error) {
      this.metrics.failure('runs-live', `Reading changed runs back failed: ${(error as Error).message}`);
    }
    for (const [deviceId, rows] of groupByDevice(written.events)) {
      this.live.publish({ type: 'run.events', deviceId, events: rows.map((row) => row.event) });
    }
    for (const [deviceId, rows] of groupByDevice(written.usage)) {
      this.live.publish({ type: 'usage', deviceId, records: rows.map((row) => row.record) });
    }
    for (const then of written.afterRuns) {
      try {
        then();
      } catch (error) {
        this.metrics.failure('runs-live', `A reaction to changed runs failed: ${(error as Error).message}`);
      }
    }
  }
}
