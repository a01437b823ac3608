import { Injectable, Logger } from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { REJECTION_REASONS, UP_CHANNELS, type RejectionReason } from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import { MetricsService } from '../metrics/metrics.service.js';

/** Why ingest itself dropped samples it had decoded (not a wire rejection). */
export type IngestDropReason = 'overloaded' | 'store_failed';

/** The ingest counters and histograms, and the rate-limited log of rejected messages. */
@Injectable()
export class IngestMetrics {
  private readonly logger = new Logger('Ingest');
  private readonly log = new RateLimitedLog(10_000);
  readonly messages: Counter<'channel'>;
  readonly rejections: Counter<'reason'>;
  readonly duplicates: Counter;
  readonly dropped: Counter<'reason'>;
  readonly recordDuplicatesTotal: Counter<'channel'>;
  readonly droppedRecords: Counter<'reason'>;
  readonly batchSize: Histogram;
  readonly latency: Histogram;

  constructor(metrics: MetricsService) {
    this.messages = metrics.counter({
      name: 'agentbox_ingest_messages_total',
      help: 'Device messages accepted by ingest, by channel',
      labelNames: ['channel'],
    });
    this.rejections = metrics.counter({
      name: 'agentbox_ingest_rejections_total',
      help: 'Device messages ingest refused, by reason',
      labelNames: ['reason'],
    });
    this.duplicates = metrics.counter({
      name: 'agentbox_ingest_duplicates_total',
      help: 'Telemetry samples dropped as duplicates of stored ones (QoS 1 redelivery, replays)',
    });
    this.dropped = metrics.counter({
      name: 'agentbox_ingest_dropped_samples_total',
      help: 'Telemetry samples ingest did not store: overloaded (turned away unacknowledged; the box sends them again), store_failed (refused by a database that answers; dropped)',
      labelNames: ['reason'],
    });
    this.recordDuplicatesTotal = metrics.counter({
      name: 'agentbox_ingest_duplicate_records_total',
      help: 'Run events and usage records dropped as already stored (spool replays, QoS 1 redelivery), by channel',
      labelNames: ['channel'],
    });
    this.droppedRecords = metrics.counter({
      name: 'agentbox_ingest_dropped_records_total',
      help: 'Runs, run events and usage records ingest did not store: overloaded (turned away unacknowledged; the box sends them again), store_failed (refused by a database that answers; dropped)',
      labelNames: ['reason'],
    });
    this.batchSize = metrics.histogram({
      name: 'agentbox_ingest_batch_size',
      help: 'Telemetry samples per committed batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000],
    });
    this.latency = metrics.histogram({
      name: 'agentbox_ingest_latency_seconds',
      help: 'Time from receiving a telemetry message to committing its samples',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10],
    });
    for (const channel of UP_CHANNELS) this.messages.inc({ channel }, 0);
    for (const reason of REJECTION_REASONS) this.rejections.inc({ reason }, 0);
    for (const channel of ['run-events', 'usage']) this.recordDuplicatesTotal.inc({ channel }, 0);
    for (const reason of ['overloaded', 'store_failed']) this.droppedRecords.inc({ reason }, 0);
  }

  /** Counts a refused message and logs at most one line per reason per 10 s, with the suppressed count. */
  reject(reason: RejectionReason, topic: string, detail: string): void {
    this.rejections.inc({ reason });
    const line = this.log.line(
      `reject:${reason}`,
      `Rejected ${reason} on ${topic.slice(0, 200)}: ${detail.slice(0, 500)}`,
    );
    if (line !== null) this.logger.warn(line);
  }

  drop(reason: IngestDropReason, samples: number, detail: string): void {
    this.dropped.inc({ reason }, samples);
    const line = this.log.line(
      `drop:${reason}`,
      reason === 'overloaded'
        ? `Turned away ${samples} telemetry samples unacknowledged (overloaded; offered again later, not lost): ${detail}`
        : `Dropped ${samples} telemetry samples (${reason}): ${detail}`,
    );
    if (line !== null) this.logger.error(line);
  }

  recordDuplicates(channel: 'run-events' | 'usage', count: number): void {
    if (count > 0) this.recordDuplicatesTotal.inc({ channel }, count);
  }

  dropRecords(reason: IngestDropReason, records: number, detail: string): void {
    this.droppedRecords.inc({ reason }, records);
    const line = this.log.line(
      `drop-records:${reason}`,
      reason === 'overloaded'
        ? `Turned away ${records} agent records unacknowledged (overloaded; offered again later, not lost): ${detail}`
        : `Dropped ${records} agent records (${reason}): ${detail}`,
    );
    if (line !== null) this.logger.error(line);
  }

  /** Logs a failure while applying a message (database down, ...), rate-limited per key. */
  failure(key: string, detail: string): void {
    const line = this.log.line(`fail:${key}`, detail);
    if (line !== null) this.logger.error(line);
  }
}
