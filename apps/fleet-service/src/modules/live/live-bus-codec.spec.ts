import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '@agentbox/schemas';
import { encodeLiveBatch, LiveBatchAssembler, MAX_NOTIFY_PAYLOAD_BYTES } from './live-bus-codec.js';

const telemetry = (deviceId: string, samples: number): LiveEvent => ({
  type: 'telemetry',
  deviceId,
  samples: Array.from({ length: samples }, (_, i) => ({
    ts: 1_700_000_000_000 + i * 1000,
    values: { 'cpu.usage': i, 'mem.used': i * 1000 },
  })),
});

describe('live bus codec', () => {
  it('sends a small batch as one notification and reads it back', () => {
    const events: LiveEvent[] = [{ type: 'rollout', rolloutId: 'r1' }];
    const notifications = encodeLiveBatch('replica-a', events);
    expect(notifications).toHaveLength(1);
    const result = new LiveBatchAssembler().push(notifications[0]!);
    expect(result).toEqual({ kind: 'batch', batch: { origin: 'replica-a', events } });
  });

  it('cuts a large batch below the NOTIFY limit and puts it back together, non-ASCII text included', () => {
    const events: LiveEvent[] = [
      telemetry('box-é-设备-😀', 400),
      { type: 'device.updated', deviceId: '盒子' },
    ];
    const notifications = encodeLiveBatch('replica-a', events);
    expect(notifications.length).toBeGreaterThan(2);
    for (const payload of notifications) {
      expect(Buffer.byteLength(payload, 'utf8')).toBeLessThanOrEqual(MAX_NOTIFY_PAYLOAD_BYTES);
    }
    const assembler = new LiveBatchAssembler();
    const results = notifications.map((payload) => assembler.push(payload));
    expect(results.slice(0, -1).every((result) => result.kind === 'partial')).toBe(true);
    expect(results.at(-1)).toEqual({ kind: 'batch', batch: { origin: 'replica-a', events } });
    expect(assembler.pending()).toBe(0);
  });

  it('carries which telemetry was stored, without its samples', () => {
    const stored = [{ deviceId: 'box-1', fromSeq: 5, toSeq: 9, fromTs: 1_000, toTs: 2_000 }];
    const [notification, ...rest] = encodeLiveBatch('replica-a', [], undefined, stored);
    expect(rest).toEqual([]);
    expect(new LiveBatchAssembler().push(notification!)).toEqual({
      kind: 'batch',
      batch: { origin: 'replica-a', events: [], telemetry: stored },
    });
    const [empty] = encodeLiveBatch('replica-a', []);
    expect(new LiveBatchAssembler().push(empty!)).toMatchObject({
      kind: 'rejected',
      reason: 'invalid-batch',
    });
  });

  it('round-trips any batch at any piece size (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 300 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 60, max: 2000 }),
        (ids, maxBytes) => {
          const events: LiveEvent[] = ids.map((deviceId) => ({ type: 'device.updated', deviceId }));
          const notifications = encodeLiveBatch('o', events, maxBytes);
          const assembler = new LiveBatchAssembler();
          let last;
          for (const payload of notifications) {
            expect(Buffer.byteLength(payload, 'utf8')).toBeLessThanOrEqual(maxBytes);
            last = assembler.push(payload);
          }
          expect(last).toEqual({ kind: 'batch', batch: { origin: 'o', events } });
        },
      ),
    );
  });

  it('refuses what is not a batch of live events, and keeps working', () => {
    const assembler = new LiveBatchAssembler();
    expect(assembler.push('hello')).toMatchObject({ kind: 'rejected', reason: 'malformed' });
    expect(assembler.push('00000000-0000-0000-0000-000000000000:0:1:{not json')).toMatchObject({
      kind: 'rejected',
      reason: 'malformed',
    });
    expect(
      assembler.push(
        `00000000-0000-0000-0000-000000000000:0:1:${JSON.stringify({ origin: 'x', events: [{ type: 'nope' }] })}`,
      ),
    ).toMatchObject({ kind: 'rejected', reason: 'invalid-batch' });
    expect(assembler.push('00000000-0000-0000-0000-000000000000:3:2:x')).toMatchObject({ kind: 'rejected' });
    const [good] = encodeLiveBatch('a', [{ type: 'rollout', rolloutId: 'r' }]);
    expect(assembler.push(good!).kind).toBe('batch');
  });

  it('drops a piece out of order and forgets batches that never complete', () => {
    let now = 0;
    const assembler = new LiveBatchAssembler(1_000, () => now);
    const pieces = encodeLiveBatch('a', [telemetry('box', 200)], 500);
    expect(assembler.push(pieces[0]!).kind).toBe('partial');
    expect(assembler.push(pieces[2]!)).toMatchObject({ kind: 'rejected', reason: 'malformed' });
    expect(assembler.pending()).toBe(0);
    expect(assembler.push(pieces[0]!).kind).toBe('partial');
    now = 5_000;
    assembler.push('garbage');
    expect(assembler.pending()).toBe(0);
  });
});
