import { join } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import {
  SCHEMA_VERSION,
  StoredMessageSchema,
  topics,
  type DeviceEvent,
  type EventsMessage,
} from '@agentbox/schemas';
import { BoxConfig } from '../../config/box-config.js';
import { RateLimitedLog } from '@agentbox/logging';
import { IdentityService } from '../identity/identity.service.js';
import { LinkService } from '../link/link.service.js';
import { SequenceService } from '../sequence/sequence.service.js';
import { sendRound, type RoundResult } from './outbox-round.js';
import { openSpool, type OutboxSpool } from './outbox-spool.js';
import { type SpooledChannel } from './telemetry-coalescing.js';

export { SPOOLED_CHANNELS, type SpooledChannel } from './telemetry-coalescing.js';

/** The topic each spooled channel is published on. */
const SPOOLED_TOPICS: Record<SpooledChannel, (deviceId: string) => string> = {
  telemetry: topics.telemetry,
  events: topics.events,
  runs: topics.runs,
  'run-events': topics.runEvents,
  usage: topics.usage,
  update: topics.update,
};

const DRAIN_RETRY_MS = 1_000;
/**
 * How long a round waits for `down/stored` after its PUBACKs before sending its records again; doubled
 * after each round that timed out (up to 10 min), so a fleet service that cannot store for a long time
 * (its database is away) is not flooded with copies. Confirmations are QoS 1: while connected none is lost.
 */
export const STORED_TIMEOUT_MS = 10_000;
const STORED_TIMEOUT_MAX_MS = 600_000;

/**
 * Store-and-forward: messages are stamped with their seq and appended to the on-disk spool first,
 * then published in order while connected, consecutive telemetry records coalesced into one message
 * (sendRound, planMessages); a record is acked in the spool only after the PUBACK of the message holding it
 * and the fleet service's `down/stored` confirming it is committed (docs/protocol.md, "Acknowledged means
 * stored"). After a broker restart or a kill -9 of the device agent the unacked records are published again
 * under the same seq (and sample idx), and the cloud drops the duplicates.
 */
@Injectable()
export class OutboxService {
  private readonly logger = new Logger(OutboxService.name);
  private readonly rateLimited = new RateLimitedLog(30_000);
  private spool: OutboxSpool | undefined;
  private draining: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Records the broker refused for good (`PUBLISH_REFUSED`, see `pubackOutcome`), or unreadable, and dropped. */
  refused = 0;
  /** Messages published and acknowledged (a coalesced telemetry message counts once). */
  published = 0;
  /** Rounds whose records the fleet did not confirm in time (or before the link went down). */
  unconfirmedRounds = 0;
  /** Record ids of the spool's epoch the fleet service confirmed stored and not yet acked in the spool. */
  private stored: { epoch: string; ranges: Array<[number, number]> } = { epoch: '', ranges: [] };
  private readonly storedWaiters = new Set<() => void>();
  /** How long rounds wait for `down/stored` (see STORED_TIMEOUT_MS); tests shorten it. */
  readonly storedTimeout = { baseMs: STORED_TIMEOUT_MS, maxMs: STORED_TIMEOUT_MAX_MS };
  private storedTimeoutMs: number | undefined;

  constructor(
    private readonly config: BoxConfig,
    private readonly identity: IdentityService,
    private readonly link: LinkService,
    private readonly seq: SequenceService,
  ) {}

  async open(): Promise<void> {
    this.spool = await openSpool(join(this.config.stateDir, 'spool'), this.config.spoolMaxBytes);
    const stats = this.spool.stats();
    if (stats.records > 0)
      this.logger.log({ records: stats.records, bytes: stats.bytes }, 'spool holds unsent records');
    this.link.handle('stored', ({ payload }) => this.receiveStored(payload));
    this.link.onUp(() => this.kick());
    this.link.onDown(() => {
      this.wake?.();
      this.notifyStored();
    });
  }

  stats() {
    return this.spool?.stats();
  }

  /** Stamps nothing: the message already carries its seq, so a replay is recognisably the same message. */
  async append(channel: SpooledChannel, message: object): Promise<number> {
    if (!this.spool || this.closed) throw new Error('outbox is closed');
    const droppedBefore = this.spool.stats().dropped;
    const id = await this.spool.append(JSON.stringify({ c: channel, m: message }));
    const stats = this.spool.stats();
    if (stats.dropped > droppedBefore && this.rateLimited.take('spool-full') !== null) {
      // The spool is bounded (AGENTBOX_SPOOL_MAX_BYTES): a long outage costs the oldest records, never the disk.
      this.logger.warn(
        { dropped: stats.dropped, droppedBytes: stats.droppedBytes },
        'spool full: oldest records dropped',
      );
    }
    this.kick();
    return id;
  }

  /** Queues an `up/events` message with the given events. */
  async event(event: DeviceEvent): Promise<void> {
    const message: EventsMessage = {
      v: SCHEMA_VERSION,
      seq: this.seq.next(),
      ts: Date.now(),
      events: [event],
    };
    await this.append('events', message);
  }

  /** Stops draining and closes the spool; what is not yet acked stays on disk for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.wake?.();
    this.notifyStored();
    await this.draining;
    await this.spool?.close();
    this.spool = undefined;
  }

  private kick(): void {
    if (this.wake) {
      this.wake();
      return;
    }
    if (this.draining || this.closed || !this.link.connected || this.retryTimer) return;
    this.draining = this.drain()
      .catch((error: unknown) => {
        if (this.rateLimited.take('drain') !== null)
          this.logger.error({ err: error }, 'draining the spool failed');
      })
      .finally(() => {
        this.draining = undefined;
        // Still connected with records left means a publish failed without the link going down
        // (or something was appended meanwhile): try again shortly rather than in a tight loop.
        if (!this.closed && this.link.connected && (this.spool?.stats().records ?? 0) > 0) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, DRAIN_RETRY_MS);
        }
      });
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.link.connected && this.spool) {
      const round = await sendRound(
        this.spool,
        (channel, message) => this.publish(channel, message),
        undefined,
        (result) => this.count(result),
        (ranges) => this.awaitStored(ranges),
      );
      if (round.empty) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      if (!round.allAcked) return; // connection trouble: wait for the next onUp
    }
  }

  private receiveStored(payload: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const message = StoredMessageSchema.safeParse(parsed);
    if (!message.success) {
      if (this.rateLimited.take('stored-invalid') !== null)
        this.logger.warn('a storage confirmation that does not match its schema was dropped');
      return;
    }
    // A confirmation of another epoch is about a spool this box no longer has (a wiped state directory).
    if (!this.spool || message.data.epoch !== this.spool.epoch) return;
    if (this.stored.epoch !== message.data.epoch) this.stored = { epoch: message.data.epoch, ranges: [] };
    const ackedId = this.spool.stats().ackedId;
    this.stored.ranges = mergeRanges([...this.stored.ranges, ...message.data.ranges]).filter(
      ([, last]) => last > ackedId,
    );
    this.notifyStored();
  }

  private notifyStored(): void {
    for (const waiter of this.storedWaiters) waiter();
  }

  /** How many of the leading `ranges` lie within confirmed ones. */
  private confirmedPrefix(epoch: string, ranges: ReadonlyArray<readonly [number, number]>): number {
    if (this.stored.epoch !== epoch) return 0;
    const index = ranges.findIndex(
      ([first, last]) => !this.stored.ranges.some(([from, to]) => from <= first && last <= to),
    );
    return index === -1 ? ranges.length : index;
  }

  /** See AwaitStored: resolves once every range is confirmed, the link goes down, or the wait times out. */
  private async awaitStored(ranges: ReadonlyArray<readonly [number, number]>): Promise<number> {
    const epoch = this.spool?.epoch ?? '';
    const timeoutMs = this.storedTimeoutMs ?? this.storedTimeout.baseMs;
    const confirmed = await new Promise<boolean>((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.storedWaiters.delete(check);
        resolve(result);
      };
      const check = () => {
        if (this.confirmedPrefix(epoch, ranges) === ranges.length) done(true);
        else if (this.closed || !this.link.connected) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.storedWaiters.add(check);
      check();
    });
    if (confirmed) {
      this.storedTimeoutMs = undefined;
    } else if (!this.closed && this.link.connected) {
      this.unconfirmedRounds += 1;
      if (this.rateLimited.take('unconfirmed') !== null)
        this.logger.warn(
          { records: ranges.map(([first, last]) => `${first}-${last}`).join(','), waitedMs: timeoutMs },
          'the fleet service has not confirmed storing what the broker acknowledged: sending it again',
        );
      this.storedTimeoutMs = Math.min(timeoutMs * 2, this.storedTimeout.maxMs);
    }
    return this.confirmedPrefix(epoch, ranges);
  }

  private count(round: RoundResult): void {
    this.published += round.published;
    if (round.refused === 0) return;
    this.refused += round.refused;
    if (this.rateLimited.take('refused') !== null)
      this.logger.error(
        { err: round.refusal, records: round.refused },
        'the broker refused a spooled message (or a record was unreadable); dropped',
      );
  }

  private async publish(channel: SpooledChannel, message: Record<string, unknown>): Promise<void> {
    const topic = SPOOLED_TOPICS[channel](this.identity.deviceId);
    // Spooled records are only done once the cloud has them: with nobody subscribed (the fleet
    // service is still starting), the message stays in the spool and goes again on the next round.
    await this.link.publish(topic, message, { requireSubscriber: true });
  }
}

/** Sorted, with overlapping and adjacent ranges joined. */
function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [first, last] of sorted) {
    const tail = out.at(-1);
    if (tail && first <= tail[1] + 1) tail[1] = Math.max(tail[1], last);
    else out.push([first, last]);
  }
  return out;
}
