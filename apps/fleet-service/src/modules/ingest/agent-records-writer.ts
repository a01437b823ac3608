import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { RunEventsMessage, RunsMessage, UsageMessage } from '@agentbox/schemas';
import { LiveEventsService } from '../live/live-events.service.js';
import { toRunRecord } from '../runs/runs.dto.js';
import { RunsStore, type IncomingRun, type IncomingRunEvent } from '../runs/runs.store.js';
import { UsageStore, type IncomingUsage } from '../usage/usage.store.js';
import { IngestMetrics } from './ingest-metrics.js';
import { BATCH_WRITER_OPTIONS, type BatchWriterOptions } from './telemetry-batch-writer.js';

interface Pending {
  runs: IncomingRun[];
  events: IncomingRunEvent[];
  usage: IncomingUsage[];
}

const empty = (): Pending => ({ runs: [], events: [], usage: [] });
const sizeOf = (batch: Pending) => batch.runs.length + batch.events.length + batch.usage.length;

function groupByDevice<T extends { deviceId: string }>(rows: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(row.deviceId) ?? [];
    list.push(row);
    groups.set(row.deviceId, list);
  }
  return groups;
}

/**
 * Buffers run summaries, run events and usage records from every box and writes them in ONE transaction
 * per batch, like telemetry: runs upserted by id (a final status never goes back), events kept once per
 * (runId, index), usage once per record id, so the box's spool may replay anything without double counting.
 * After the commit, what changed goes to the console's live stream.
 */
@Injectable()
export class AgentRecordsWriter implements OnApplicationShutdown {
  private buffer: Pending = empty();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Batches committed so far. */
  batches = 0;

  constructor(
    private readonly runs: RunsStore,
    private readonly usage: UsageStore,
    private readonly live: LiveEventsService,
    private readonly metrics: IngestMetrics,
    @Inject(BATCH_WRITER_OPTIONS) private readonly options: BatchWriterOptions,
  ) {}

  addRuns(deviceId: string, message: RunsMessage): void {
    this.add(message.runs.length, () => {
      for (const run of message.runs) this.buffer.runs.push({ deviceId, run });
    });
  }

  addRunEvents(deviceId: string, message: RunEventsMessage): void {
    this.add(message.events.length, () => {
      for (const event of message.events) this.buffer.events.push({ deviceId, event });
    });
  }

  addUsage(deviceId: string, message: UsageMessage): void {
    this.add(message.records.length, () => {
      for (const record of message.records) this.buffer.usage.push({ deviceId, record });
    });
  }

  /** Writes whatever is buffered; resolves once it is committed (or dropped after the last attempt). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    if (sizeOf(batch) === 0) return this.flushing;
    this.buffer = empty();
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private add(count: number, push: () => void): void {
    if (sizeOf(this.buffer) + count > this.options.maxBufferedSamples) {
      this.metrics.dropRecords('overloaded', count, `buffer holds ${sizeOf(this.buffer)} records`);
      return;
    }
    push();
    if (sizeOf(this.buffer) >= this.options.maxBatchSamples) {
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
    }
  }

  private async write(batch: Pending): Promise<void> {
    let outcome: { runIds: string[]; events: IncomingRunEvent[]; usage: IncomingUsage[] } | undefined;
    for (let attempt = 1; attempt <= this.options.attempts && outcome === undefined; attempt += 1) {
      try {
        outcome = await this.runs.transaction(async (manager) => ({
          runIds: batch.runs.length > 0 ? await this.runs.upsertRuns(manager, batch.runs) : [],
          events: batch.events.length > 0 ? await this.runs.insertEvents(manager, batch.events) : [],
          usage: batch.usage.length > 0 ? await this.usage.insert(manager, batch.usage) : [],
        }));
      } catch (error) {
        if (attempt === this.options.attempts) {
          this.metrics.dropRecords('store_failed', sizeOf(batch), (error as Error).message);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
    if (outcome === undefined) return;
    this.batches += 1;
    this.metrics.recordDuplicates('run-events', batch.events.length - outcome.events.length);
    this.metrics.recordDuplicates('usage', batch.usage.length - outcome.usage.length);
    await this.afterCommit(outcome);
  }

  private async afterCommit(outcome: {
    runIds: string[];
    events: IncomingRunEvent[];
    usage: IncomingUsage[];
  }): Promise<void> {
    try {
      for (const row of await this.runs.findByIds(outcome.runIds)) {
        this.live.publish({ type: 'run', deviceId: row.deviceId, run: toRunRecord(row) });
      }
    } catch (error) {
      this.metrics.failure('runs-live', `Reading changed runs back failed: ${(error as Error).message}`);
    }
    for (const [deviceId, rows] of groupByDevice(outcome.events)) {
      this.live.publish({ type: 'run.events', deviceId, events: rows.map((row) => row.event) });
    }
    for (const [deviceId, rows] of groupByDevice(outcome.usage)) {
      this.live.publish({ type: 'usage', deviceId, records: rows.map((row) => row.record) });
    }
  }
}
