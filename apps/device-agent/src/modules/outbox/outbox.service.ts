import { join } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';
import { SCHEMA_VERSION, topics, type DeviceEvent, type EventsMessage } from '@agentbox/schemas';
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
 * Store-and-forward: messages are stamped with their seq and appended to the on-disk spool first,
 * then published in order while connected, consecutive telemetry records coalesced into one message
 * (sendRound, planMessages); a record is acked in the spool only after the PUBACK of the message holding it.
 * After a broker restart or a kill -9 of the device agent the unacked records are published again under the
 * same seq (and sample idx), and the cloud drops the duplicates.
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
    this.link.onUp(() => this.kick());
    this.link.onDown(() => this.wake?.());
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
