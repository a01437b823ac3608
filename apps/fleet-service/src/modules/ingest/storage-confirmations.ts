import { Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import {
  SCHEMA_VERSION,
  STORED_MAX_RANGES,
  topics,
  type SpoolPosition,
  type StoredMessage,
} from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import type { Settle } from '../../common/settlement.js';
import { BrokerService } from '../broker/broker.service.js';
import { MetricsService } from '../metrics/metrics.service.js';

/**
 * `down/stored` (docs/protocol.md, "Acknowledged means stored"): a box deletes a spooled record once the
 * fleet service says it is committed, not on the broker's PUBACK. An external broker acknowledges on
 * receipt and keeps the message in memory; killed before the message reached a committed batch, it loses
 * what the box was already told was delivered. The confirmation comes from the service itself, after the
 * commit, so no broker fault can make a box delete what is not stored.
 *
 * It names the ranges of record ids it stored, not a high-water mark: a box's message may reach storage
 * while an earlier one did not (refused with PUBACK 0x10 before this replica subscribed), and the box sends
 * that one again. One confirmation per box per settled batch: the settles of a batch run in one go, and
 * the ranges collected until the next turn of the event loop go out together, adjacent ones merged.
 */
@Injectable()
export class StorageConfirmations {
  private readonly logger = new Logger('Ingest');
  private readonly log = new RateLimitedLog(60_000);
  private readonly sent: Counter;
  private pending = new Map<string, StoredMessage>();
  private scheduled = false;

  constructor(
    private readonly broker: BrokerService,
    metrics: MetricsService,
  ) {
    this.sent = metrics.counter({
      name: 'agentbox_ingest_storage_confirmations_total',
      help: 'down/stored messages sent to boxes, by outcome (sent, failed)',
      labelNames: ['outcome'],
    });
  }

  /** `settle`, then, unless the message was turned away, a confirmation of its records to the box. */
  after(deviceId: string, position: SpoolPosition, settle: Settle): Settle {
    return (settlement) => {
      settle(settlement);
      if (settlement !== 'busy') this.confirm(deviceId, position);
    };
  }

  private confirm(deviceId: string, position: SpoolPosition): void {
    let message = this.pending.get(deviceId);
    // A new epoch (a wiped spool) replaces what the old one had: the box no longer holds those records.
    if (message === undefined || message.epoch !== position.epoch) {
      message = { v: SCHEMA_VERSION, epoch: position.epoch, ranges: [] };
      this.pending.set(deviceId, message);
    }
    addRange(message.ranges, position.first, position.last);
    if (message.ranges.length >= STORED_MAX_RANGES) {
      this.pending.delete(deviceId);
      this.publish(deviceId, message);
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    for (const [deviceId, message] of batch) this.publish(deviceId, message);
  }

  private publish(deviceId: string, message: StoredMessage): void {
    // QoS 1: a box that stays connected cannot miss it; one that reconnects sends its unconfirmed records again.
    this.broker.publish(topics.stored(deviceId), JSON.stringify(message), { qos: 1 }).then(
      () => this.sent.inc({ outcome: 'sent' }),
      (error: unknown) => {
        this.sent.inc({ outcome: 'failed' });
        const line = this.log.line('publish', `Confirming storage failed: ${(error as Error).message}`);
        if (line !== null) this.logger.warn(line);
      },
    );
  }
}

/** Adds first..last to ranges kept in arrival order, merging it into the last one when they touch. */
export function addRange(ranges: Array<[number, number]>, first: number, last: number): void {
  const tail = ranges.at(-1);
  if (tail && first <= tail[1] + 1 && last >= tail[0] - 1) {
    tail[0] = Math.min(tail[0], first);
    tail[1] = Math.max(tail[1], last);
    return;
  }
  ranges.push([first, last]);
}
