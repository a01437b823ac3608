import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Spool } from '@agentbox/spool';
import { useTempDir } from '@agentbox/test-support/vitest';
import type { SpoolPosition, TelemetrySample } from '@agentbox/schemas';
import { LinkException, LinkExceptionCode } from '../link/link.exception.js';
import { sendRound, type RoundOptions } from './outbox-round.js';
import type { SpooledChannel } from './telemetry-coalescing.js';

/**
 * What became of one published message: stored and acknowledged, stored with its PUBACK lost, lost,
 * refused, or acknowledged by a broker that crashed before handing it on (it and the rest of the round).
 */
type Outcome = 'ack' | 'lost-puback' | 'lost' | 'refused' | 'crash';

type Action =
  | { kind: 'telemetry'; samples: number; pad: number }
  | { kind: 'event' }
  | { kind: 'round'; outcomes: Outcome[] }
  | { kind: 'restart' };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('telemetry' as const),
      samples: fc.integer({ min: 1, max: 3 }),
      pad: fc.nat(40),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('event' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('round' as const),
      outcomes: fc.array(fc.constantFrom<Outcome>('ack', 'ack', 'lost-puback', 'lost', 'refused', 'crash'), {
        maxLength: 4,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
);

/** Small limits, so that short runs cross every cap, cut peeks and windows. */
const OPTIONS: RoundOptions = { window: 3, peekRecords: 7, limits: { maxSamples: 5, maxSampleBytes: 260 } };

describe('sendRound (telemetry coalescing)', () => {
  const dir = useTempDir('agentbox-outbox-round-');

  it('re-sends every sample under the same (seq, idx) until stored, and acks a record only with its message', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), async (actions) => {
        const path = `${dir.path}/${Math.random().toString(36).slice(2)}`;
        const open = () => Spool.open({ dir: path, maxBytes: 1024 * 1024, fsync: false, lock: false });
        let spool = await open();
        let seq = 100;
        let uid = 0;
        /** Samples by spool record id; a sample is told apart by its unique `ts`. */
        const recordSamples = new Map<number, TelemetrySample[]>();
        /** The fleet's store: (seq, idx) -> sample ts, and the key each sample went under. */
        const stored = new Map<string, number>();
        const keyOf = new Map<number, string>();
        const refusedSamples = new Set<number>();
        /** Records whose message was acknowledged or refused: with `confirmed`, the only ones the spool may ack. */
        const done = new Set<number>();
        /** Records the fleet stored, which it confirms (down/stored). */
        const confirmed = new Set<number>();
        const awaitStored = (ranges: ReadonlyArray<readonly [number, number]>) => {
          const index = ranges.findIndex(([first, last]) => {
            for (let id = first; id <= last; id++) if (!confirmed.has(id)) return true;
            return false;
          });
          return Promise.resolve(index === -1 ? ranges.length : index);
        };

        const publish = (outcomes: Outcome[]) => {
          let crashed = false;
          return (channel: SpooledChannel, message: Record<string, unknown>) => {
            let outcome = outcomes.shift() ?? 'ack';
            if (outcome === 'crash' || crashed) {
              crashed = true;
              outcome = 'crash';
            }
            const position = message.spool as SpoolPosition;
            expect(position.acked).toBeLessThan(position.first);
            const ids = Array.from(
              { length: position.last - position.first + 1 },
              (_, i) => position.first + i,
            );
            if (channel === 'telemetry') {
              // The message holds exactly the samples of records first..last, in order, under the first's seq.
              const samples = message.samples as TelemetrySample[];
              expect(samples).toEqual(ids.flatMap((id) => recordSamples.get(id) ?? []));
              expect(samples.length).toBeLessThanOrEqual(OPTIONS.limits.maxSamples);
              if (outcome === 'ack' || outcome === 'lost-puback') {
                samples.forEach((sample, idx) => {
                  const key = `${String(message.seq)}/${idx}`;
                  const before = stored.get(key);
                  // The same key for another sample: the fleet would drop it as a duplicate, i.e. lose it.
                  expect(before === undefined || before === sample.ts, `key ${key} reused`).toBe(true);
                  // The same sample under another key: stored twice.
                  expect(keyOf.get(sample.ts) ?? key, `sample ${sample.ts} re-keyed`).toBe(key);
                  stored.set(key, sample.ts);
                  keyOf.set(sample.ts, key);
                });
              }
              if (outcome === 'refused') for (const sample of samples) refusedSamples.add(sample.ts);
            }
            if (outcome === 'ack' || outcome === 'refused') for (const id of ids) done.add(id);
            if (outcome === 'ack' || outcome === 'lost-puback') for (const id of ids) confirmed.add(id);
            if (outcome === 'ack' || outcome === 'crash') return Promise.resolve();
            return Promise.reject(
              outcome === 'refused'
                ? new LinkException(LinkExceptionCode.PUBLISH_REFUSED, 'refused', 0x87)
                : new LinkException(LinkExceptionCode.NOT_CONNECTED, 'connection lost'),
            );
          };
        };

        const checkAcks = () => {
          for (let id = 1; id <= spool.stats().ackedId; id++)
            expect(done.has(id) || confirmed.has(id), `record ${id} acked`).toBe(true);
        };

        try {
          for (const step of actions) {
            if (step.kind === 'telemetry') {
              const samples = Array.from({ length: step.samples }, () => ({
                ts: ++uid,
                values: { 'cpu.usage_pct': step.pad, [`x.${'p'.repeat(step.pad)}`]: 1 },
              }));
              const id = await spool.append(
                JSON.stringify({ c: 'telemetry', m: { v: 1, seq: ++seq, ts: uid, samples } }),
              );
              recordSamples.set(id, samples);
              seq += 2; // seq is not contiguous: one allocator for every channel
            } else if (step.kind === 'event') {
              const event = { type: 't', level: 'info', message: 'm' };
              await spool.append(
                JSON.stringify({ c: 'events', m: { v: 1, seq: ++seq, ts: 0, events: [event] } }),
              );
            } else if (step.kind === 'round') {
              await sendRound(spool, publish([...step.outcomes]), OPTIONS, undefined, awaitStored);
              checkAcks();
            } else {
              await spool.close();
              spool = await open();
            }
          }
          // The link comes back for good: everything drains.
          for (let round = 0; round < 1_000; round++) {
            if ((await sendRound(spool, publish([]), OPTIONS, undefined, awaitStored)).empty) break;
            checkAcks();
          }
          expect(spool.stats().records).toBe(0);
          const expected = [...recordSamples.values()].flat().map((sample) => sample.ts);
          for (const ts of expected) {
            if (!refusedSamples.has(ts)) expect(keyOf.has(ts), `sample ${ts} stored`).toBe(true);
          }
        } finally {
          await spool.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
