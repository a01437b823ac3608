import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SpoolPosition } from '@agentbox/schemas';
import { SequenceGapTracker } from './sequence-gaps.js';

/** What became of one message: stored and acked, stored with its PUBACK lost, not delivered, refused by the broker. */
type Outcome = 'ack' | 'lost-puback' | 'not-delivered' | 'refused';
type Step =
  | { kind: 'append'; records: number }
  | { kind: 'spool-full'; records: number }
  | { kind: 'round'; sizes: number[]; outcomes: Outcome[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), records: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('spool-full' as const), records: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('round' as const),
    sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
    outcomes: fc.array(fc.constantFrom<Outcome>('ack', 'ack', 'lost-puback', 'not-delivered', 'refused'), {
      maxLength: 4,
    }),
  }),
);

const EPOCH = 'a1b2c3d4e5f60708';

/** A box's outbox in miniature: it sends from its spool head and acks the prefix of messages that made it. */
class Box {
  head = 1;
  next = 1;
  dropped = 0;
  lost = 0;
  /** Ids that reached the cloud at least once. */
  private readonly delivered = new Set<number>();

  constructor(private readonly deliver: (position: SpoolPosition) => void) {}

  round(sizes: number[], outcomes: Outcome[]): void {
    const acked = this.head - 1;
    const messages: Array<{ first: number; last: number }> = [];
    let first = this.head;
    for (const size of sizes) {
      if (first >= this.next) break;
      const last = Math.min(first + size - 1, this.next - 1);
      messages.push({ first, last });
      first = last + 1;
    }
    let acking = true;
    for (const [index, { first: from, last }] of messages.entries()) {
      const outcome = outcomes[index] ?? 'ack';
      if (outcome === 'ack' || outcome === 'lost-puback') {
        this.deliver({ epoch: EPOCH, first: from, last, acked, dropped: this.dropped });
        for (let id = from; id <= last; id++) this.delivered.add(id);
      }
      if (acking && (outcome === 'ack' || outcome === 'refused')) {
        if (outcome === 'refused') this.lose(from, last);
        this.head = last + 1;
      } else acking = false;
    }
  }

  spoolFull(records: number): void {
    const gone = Math.min(records, this.next - this.head);
    this.lose(this.head, this.head + gone - 1);
    this.head += gone;
    this.dropped += gone;
  }

  /** Ids that leave the spool unacknowledged are lost unless an earlier try reached the cloud. */
  private lose(from: number, to: number): void {
    for (let id = from; id <= to; id++) if (!this.delivered.has(id)) this.lost += 1;
  }
}

describe('SequenceGapTracker', () => {
  it('counts exactly the records that never arrive, never a redelivery or a retried publish', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const sut = new SequenceGapTracker();
        // Followed from its spool's first record on.
        sut.load('box', { epoch: EPOCH, high: 0, gaps: 0, dropped: 0 });
        const box = new Box((position) => sut.arrived('box', position));
        for (const s of steps) {
          if (s.kind === 'append') box.next += s.records;
          else if (s.kind === 'spool-full') box.spoolFull(s.records);
          else box.round(s.sizes, s.outcomes);
        }
        // The link is good again: everything goes, then one more record whose `acked` covers the rest.
        while (box.head < box.next) box.round([3], []);
        box.next += 1;
        box.round([1], []);
        expect(sut.mark('box')?.gaps).toBe(box.lost);
        expect(sut.mark('box')?.dropped).toBe(box.dropped);
      }),
      { numRuns: 500 },
    );
  });

  const at = (first: number, last: number, acked: number, epoch = EPOCH): SpoolPosition => ({
    epoch,
    first,
    last,
    acked,
    dropped: 0,
  });

  it('counts from 1 again when the spool starts over, and ignores a late message of the old epoch', () => {
    const sut = new SequenceGapTracker();
    sut.arrived('box', at(1, 10, 0));
    expect(sut.arrived('box', at(3, 5, 2, 'ffff000011112222'))).toEqual({ count: 2, from: 1, to: 2 });
    expect(sut.arrived('box', at(11, 12, 10))).toBeUndefined();
    expect(sut.mark('box')).toMatchObject({ epoch: 'ffff000011112222', high: 5, gaps: 2 });
  });

  it('resumes from a stored mark, and starts at what a box new to spool positions has acked', () => {
    const sut = new SequenceGapTracker();
    sut.load('known', { epoch: EPOCH, high: 40, gaps: 3, dropped: 0 });
    expect(sut.arrived('known', at(30, 40, 29))).toBeUndefined();
    expect(sut.arrived('known', at(45, 46, 44))).toEqual({ count: 4, from: 41, to: 44 });
    expect(sut.mark('known')?.gaps).toBe(7);
    expect(sut.arrived('new', at(500, 510, 499))).toBeUndefined();
    expect(sut.mark('new')).toMatchObject({ high: 510, gaps: 0 });
    // What its full spool dropped before is all it can tell of that time.
    expect(sut.arrived('dropping', { ...at(500, 510, 499), dropped: 7 })).toEqual({ count: 7 });
    expect(sut.mark('dropping')).toMatchObject({ high: 510, gaps: 7, dropped: 7 });
  });

  it('reopens a message turned away and counts one refused for good', () => {
    const sut = new SequenceGapTracker();
    sut.arrived('box', at(1, 4, 0));
    sut.turnedAway('box', at(1, 4, 0));
    expect(sut.arrived('box', at(5, 6, 4))).toEqual({ count: 4, from: 1, to: 4 });
    expect(sut.refused('box', at(5, 6, 4))).toEqual({ count: 2, from: 5, to: 6 });
    expect(sut.mark('box')?.gaps).toBe(6);
  });
});
