import { DEFAULT_MAX_PAYLOAD_BYTES } from '@agentbox/schemas';
import { z } from 'zod';

/** Channels that go through the spool: what must not be lost while the box is offline. */
export const SPOOLED_CHANNELS = ['telemetry', 'events', 'runs', 'run-events', 'usage', 'update'] as const;
export type SpooledChannel = (typeof SPOOLED_CHANNELS)[number];

/** Samples one `up/telemetry` message may carry (the contract's bound, docs/protocol.md section 4). */
export const COALESCE_MAX_SAMPLES = 1_000;
/**
 * Bytes of encoded samples one coalesced message may carry: the payload cap (docs/protocol.md section 7)
 * less room for the envelope (`v`, `seq`, `ts`, `spool`, brackets), which is not counted so that the
 * grouping does not depend on anything that changes between rounds (the `spool.acked` digits).
 */
export const COALESCE_MAX_SAMPLE_BYTES = DEFAULT_MAX_PAYLOAD_BYTES - 16 * 1024;

const SpoolRecordSchema = z.object({
  c: z.enum(SPOOLED_CHANNELS),
  m: z.record(z.string(), z.unknown()),
});

/** A spooled telemetry message as far as coalescing needs it (the full check ran when it was spooled). */
const TelemetryRecordSchema = z.looseObject({
  seq: z.number(),
  samples: z.array(z.unknown()).min(1),
});

export interface RawRecord {
  id: number;
  data: Buffer;
}

/** One message to publish, holding spool records `first`..`last`; `message` lacks the `spool` field. */
export type PlannedMessage =
  | {
      kind: 'publish';
      channel: SpooledChannel;
      first: number;
      last: number;
      message: Record<string, unknown>;
    }
  /** A record that does not parse: nothing to publish, it is dropped (and counted) like a refused one. */
  | { kind: 'unreadable'; first: number; last: number };

export interface CoalescingLimits {
  maxSamples: number;
  maxSampleBytes: number;
}

const DEFAULT_LIMITS: CoalescingLimits = {
  maxSamples: COALESCE_MAX_SAMPLES,
  maxSampleBytes: COALESCE_MAX_SAMPLE_BYTES,
};

type Parsed =
  | { id: number; kind: 'telemetry'; message: Record<string, unknown>; samples: unknown[]; bytes: number }
  | { id: number; kind: 'other'; channel: SpooledChannel; message: Record<string, unknown> }
  | { id: number; kind: 'unreadable' };

function parse(record: RawRecord): Parsed {
  let parsed: z.infer<typeof SpoolRecordSchema>;
  try {
    parsed = SpoolRecordSchema.parse(JSON.parse(record.data.toString('utf8')));
  } catch {
    return { id: record.id, kind: 'unreadable' };
  }
  if (parsed.c === 'telemetry') {
    const telemetry = TelemetryRecordSchema.safeParse(parsed.m);
    if (telemetry.success) {
      const { samples } = telemetry.data;
      // Each sample's JSON plus the comma before it: a function of the record alone.
      const bytes = samples.reduce<number>(
        (sum, sample) => sum + Buffer.byteLength(JSON.stringify(sample)) + 1,
        0,
      );
      return { id: record.id, kind: 'telemetry', message: parsed.m, samples, bytes };
    }
  }
  return { id: record.id, kind: 'other', channel: parsed.c, message: parsed.m };
}

/**
 * Turns the oldest unacknowledged spool records (in order, from the spool head) into the messages to
 * publish: runs of consecutive telemetry records become one `up/telemetry` message each, every other
 * record goes alone.
 *
 * The fleet service stores a sample under (deviceId, seq, idx) and drops a second copy by that key, so a
 * sample must go again under the same key until it is acknowledged, whatever happens between rounds
 * (partial acknowledgements, a lost PUBACK, records appended meanwhile, an agent restart). A group takes
 * the `seq` of its first record and numbers `idx` across its concatenated samples, so a sample's key
 * depends only on where its group starts. Groups start
 *   (a) at the spool head,
 *   (b) at the record after a non-telemetry record, and
 *   (c) at the first record that would take the group, counted from its start, past `maxSamples` or
 *       `maxSampleBytes`.
 * (b) and (c) depend only on the records from the group start on, whose content never changes. For (a):
 * the head only moves by an acknowledgement, and the outbox acknowledges whole messages (a prefix of the
 * round's messages), so the new head is the first record of the next group the previous round planned: a
 * start under (b) or (c), or the record after an open group, i.e. one that was not there yet when that
 * group went out. Every round and every restart therefore cuts the same groups, except that an open last
 * group grows by the records appended since; its earlier samples keep their keys, the new ones get the
 * next `idx`. Two things move the head elsewhere and may send a few samples again under new keys (stored
 * twice, never lost): the spool dropping its oldest records when full while a group is in flight, and an
 * ack state lost to a damaged disk (the spool replays from its oldest record). Changing the limits
 * between versions regroups what is unacknowledged at the upgrade in the same way.
 *
 * `complete` says the records run up to the spool's tail. If not (the peek was cut at its limit), the
 * last group may be cut too, and it is held back for the next round unless it is the only message: a
 * group holds at most `maxSamples` records, so with a peek limit of at least that a lone group is whole.
 */
export function planMessages(
  records: readonly RawRecord[],
  complete: boolean,
  limits: CoalescingLimits = DEFAULT_LIMITS,
): PlannedMessage[] {
  const planned: PlannedMessage[] = [];
  let group:
    | { message: Record<string, unknown>; first: number; last: number; samples: unknown[]; bytes: number }
    | undefined;
  const close = () => {
    if (!group) return;
    planned.push({
      kind: 'publish',
      channel: 'telemetry',
      first: group.first,
      last: group.last,
      message: { ...group.message, samples: group.samples },
    });
    group = undefined;
  };
  let lastGroupOpen = false;
  for (const record of records.map(parse)) {
    if (record.kind === 'telemetry') {
      const fits =
        group !== undefined &&
        group.samples.length + record.samples.length <= limits.maxSamples &&
        group.bytes + record.bytes <= limits.maxSampleBytes;
      if (group && fits) {
        group.samples = group.samples.concat(record.samples);
        group.bytes += record.bytes;
        group.last = record.id;
      } else {
        close();
        group = {
          message: record.message,
          first: record.id,
          last: record.id,
          samples: record.samples,
          bytes: record.bytes,
        };
      }
      lastGroupOpen = true;
      continue;
    }
    close();
    lastGroupOpen = false;
    planned.push(
      record.kind === 'unreadable'
        ? { kind: 'unreadable', first: record.id, last: record.id }
        : {
            kind: 'publish',
            channel: record.channel,
            first: record.id,
            last: record.id,
            message: record.message,
          },
    );
  }
  close();
  if (!complete && lastGroupOpen && planned.length > 1) planned.pop();
  return planned;
}
