import type { SpoolPosition } from '@agentbox/schemas';
import { LinkException, LinkExceptionCode } from '../link/link.exception.js';
import type { OutboxSpool } from './outbox-spool.js';
import {
  COALESCE_MAX_SAMPLES,
  COALESCE_MAX_SAMPLE_BYTES,
  planMessages,
  type CoalescingLimits,
  type PlannedMessage,
  type SpooledChannel,
} from './telemetry-coalescing.js';

/** Messages published at once before waiting for their PUBACKs; acks stay in order (one round at a time). */
export const PUBLISH_WINDOW = 20;
/** Records read per round: enough for a few full telemetry messages, and never below one (see planMessages). */
export const PEEK_RECORDS = Math.max(5_000, COALESCE_MAX_SAMPLES);

export interface RoundOptions {
  window: number;
  /** At least `limits.maxSamples` (see planMessages). */
  peekRecords: number;
  limits: CoalescingLimits;
}

const DEFAULT_OPTIONS: RoundOptions = {
  window: PUBLISH_WINDOW,
  peekRecords: PEEK_RECORDS,
  limits: { maxSamples: COALESCE_MAX_SAMPLES, maxSampleBytes: COALESCE_MAX_SAMPLE_BYTES },
};

export type PublishOne = (channel: SpooledChannel, message: Record<string, unknown>) => Promise<void>;

/**
 * Waits until the fleet service confirms it stored the records of every range (`down/stored`), and
 * resolves with how many of the leading ranges it confirmed by then: fewer than all when it gave up (the
 * link went down, or no confirmation came in time).
 */
export type AwaitStored = (ranges: ReadonlyArray<readonly [number, number]>) => Promise<number>;

export interface RoundResult {
  /** Messages published that got a PUBACK. */
  published: number;
  /** Records dropped: refused for good by the broker, or unreadable. */
  refused: number;
  /** A refusal, for the log. */
  refusal?: unknown;
  /** Nothing was left to send. */
  empty: boolean;
  /** Every message of the round was acknowledged (or dropped) and confirmed stored; false means connection trouble. */
  allAcked: boolean;
  /** Acknowledged by the broker, but the fleet service did not confirm storing all of it. */
  unconfirmed?: boolean;
}

/**
 * One round of the outbox: the oldest records of the spool, coalesced (planMessages), published at once
 * with their spool position, then acknowledged in the spool up to the last record of the longest prefix
 * of messages that made it. A spool record is acknowledged only when the message holding it is, and, with
 * `awaitStored`, once the fleet service confirms it stored it (docs/protocol.md, "Acknowledged means
 * stored": a broker's PUBACK only says the broker has it).
 */
export async function sendRound(
  spool: OutboxSpool,
  publish: PublishOne,
  options: RoundOptions = DEFAULT_OPTIONS,
  /** Hears the round's counts before its records are acknowledged (someone may be waiting for the ack). */
  beforeAck?: (result: RoundResult) => void,
  awaitStored?: AwaitStored,
): Promise<RoundResult> {
  const records = await spool.peek(options.peekRecords);
  if (records.length === 0) return { published: 0, refused: 0, empty: true, allAcked: true };
  const complete = records.length < options.peekRecords;
  const planned = planMessages(records, complete, options.limits).slice(0, options.window);
  const { ackedId, dropped } = spool.stats();
  const epoch = spool.epoch;
  const results = await Promise.allSettled(
    planned.map((item) => {
      if (item.kind === 'unreadable') return Promise.reject(new UnreadableRecord());
      // A spool-full drop between the peek and here can move the ack position past these records.
      const spoolPosition: SpoolPosition = {
        epoch,
        first: item.first,
        last: item.last,
        acked: Math.min(ackedId, item.first - 1),
        dropped,
      };
      return publish(item.channel, { ...item.message, spool: spoolPosition });
    }),
  );
  const result: RoundResult = { published: 0, refused: 0, empty: false, allAcked: false };
  let lastAcked: number | undefined;
  /** The records of each message of the prefix the broker took (the others were refused for good). */
  const delivered: Array<[number, number]> = [];
  for (const [index, settled] of results.entries()) {
    const item = planned[index] as PlannedMessage;
    if (settled.status === 'fulfilled') {
      result.published += 1;
      lastAcked = item.last;
      delivered.push([item.first, item.last]);
      continue;
    }
    if (!isDropped(settled.reason)) break;
    // Refused for good (e.g. 0x87 not authorised, 0x99 bad payload): retrying would block the queue forever.
    result.refused += item.last - item.first + 1;
    result.refusal ??= settled.reason;
    lastAcked = item.last;
  }
  result.allAcked = lastAcked === planned.at(-1)?.last;
  if (awaitStored && delivered.length > 0) {
    // Acked up to the first message not confirmed stored: it, and what follows, go again next round.
    const confirmed = await awaitStored(delivered);
    const firstUnconfirmed = delivered[confirmed];
    if (firstUnconfirmed !== undefined) {
      result.allAcked = false;
      result.unconfirmed = true;
      lastAcked = firstUnconfirmed[0] - 1 > ackedId ? firstUnconfirmed[0] - 1 : undefined;
    }
  }
  beforeAck?.(result);
  if (lastAcked !== undefined) await spool.ack(lastAcked);
  return result;
}

export class UnreadableRecord extends Error {
  constructor() {
    super('unreadable spool record');
    this.name = 'UnreadableRecord';
  }
}

function isDropped(error: unknown): boolean {
  return (
    error instanceof UnreadableRecord ||
    (error instanceof LinkException && error.code === LinkExceptionCode.PUBLISH_REFUSED)
  );
}
