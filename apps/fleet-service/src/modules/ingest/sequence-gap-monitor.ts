import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { SpoolPosition } from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import type { Settle } from '../../common/settlement.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { SpoolMarksStore } from '../telemetry/spool-marks.store.js';
import { SequenceGapTracker, type Missing } from './sequence-gaps.js';

/**
 * The per-box sequence-gap count (`agentbox_ingest_sequence_gaps_total`, docs/operations.md): feeds the
 * spool positions of arriving messages to a SequenceGapTracker, counts and logs what it finds missing, and
 * keeps each box's mark in device_spool_marks. A box's mark is written before the acknowledgement of any
 * message it covers goes out, so after a restart (even a kill -9) counting resumes from a mark at least
 * as high as anything the box was told is delivered: nothing delivered before reads as missing.
 */
@Injectable()
export class SequenceGapMonitor {
  private readonly logger = new Logger('Ingest');
  private readonly log = new RateLimitedLog(60_000);
  private readonly tracker = new SequenceGapTracker();
  private readonly gaps: Counter;
  /** Boxes whose mark changed since it was last written. */
  private dirty = new Set<string>();
  /** A write that has not started yet (it will take every box dirty by then). */
  private queued: Promise<void> | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SpoolMarksStore,
    metrics: MetricsService,
  ) {
    this.gaps = metrics.counter({
      name: 'agentbox_ingest_sequence_gaps_total',
      help: "Spool records of boxes that never reached storage (ids missing from a box's spool sequence); redeliveries never count",
    });
  }

  /** Takes the stored marks; call before the first message. */
  async load(): Promise<void> {
    for (const { deviceId, ...mark } of await this.store.all()) this.tracker.load(deviceId, mark);
  }

  /**
   * A message with a spool position arrived: records it, and returns the settle to use instead of `settle`,
   * which writes the box's mark before passing the outcome on.
   */
  arrived(deviceId: string, position: SpoolPosition, settle: Settle): Settle {
    this.report(deviceId, position, this.tracker.arrived(deviceId, position));
    this.dirty.add(deviceId);
    return (settlement) => {
      if (settlement === 'busy') {
        this.tracker.turnedAway(deviceId, position);
        settle(settlement);
        return;
      }
      if (settlement === 'refused') this.report(deviceId, position, this.tracker.refused(deviceId, position));
      this.dirty.add(deviceId);
      void this.write().finally(() => settle(settlement));
    };
  }

  /** Writes the marks of every box dirty when the write starts; concurrent callers share one write. */
  private write(): Promise<void> {
    if (this.queued) return this.queued;
    const queued = this.writing.then(async () => {
      this.queued = undefined;
      const boxes = [...this.dirty];
      this.dirty = new Set();
      const marks = boxes.flatMap((deviceId) => {
        const mark = this.tracker.mark(deviceId);
        return mark ? [{ deviceId, ...mark }] : [];
      });
      try {
        await this.store.save(marks);
      } catch (error) {
        for (const deviceId of boxes) this.dirty.add(deviceId);
        const line = this.log.line('marks', `Writing spool marks failed: ${(error as Error).message}`);
        if (line !== null) this.logger.error(line);
      }
    });
    this.queued = queued;
    this.writing = queued;
    return queued;
  }

  private report(deviceId: string, position: SpoolPosition, missing: Missing | undefined): void {
    if (!missing) return;
    this.gaps.inc(missing.count);
    const mark = this.tracker.mark(deviceId);
    const line = this.log.line(
      `gap:${deviceId}`,
      `Box ${deviceId}: ${missing.count} spool records never reached storage (` +
        (missing.from === undefined ? '' : `ids ${missing.from}-${missing.to} `) +
        `of spool epoch ${position.epoch}; ${mark?.gaps ?? missing.count} so far); the box reports` +
        ` ${position.dropped} dropped by its full spool`,
    );
    if (line !== null) this.logger.warn(line);
  }
}
