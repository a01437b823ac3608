import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePayload, encodeMessage } from './codec.js';
import { DEVICE_ID_PATTERN } from './ids.js';
import { METRIC_NAME_PATTERN } from './messages.js';
import * as sut from './live.js';

const deviceId = fc.stringMatching(DEVICE_ID_PATTERN);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));
const sample = fc.record({
  ts: fc.maxSafeNat(),
  values: fc.dictionary(
    fc.stringMatching(METRIC_NAME_PATTERN).filter((name) => name.length <= 100),
    finite,
    { maxKeys: 5, noNullPrototype: true },
  ),
});

const liveEventArb: fc.Arbitrary<sut.LiveEvent> = fc.oneof(
  fc.record({
    type: fc.constant('device.status' as const),
    deviceId,
    online: fc.boolean(),
    lastSeenAt: fc.option(
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      { nil: null },
    ),
  }),
  fc.record({ type: fc.constant('device.updated' as const), deviceId }),
  fc.record({
    type: fc.constant('telemetry' as const),
    deviceId,
    samples: fc.array(sample, { maxLength: 5 }),
  }),
);

describe('LiveEventSchema', () => {
  it('round-trips every live event through encodeMessage and decodePayload', () => {
    fc.assert(
      fc.property(liveEventArb, (event) => {
        expect(decodePayload(sut.LiveEventSchema, encodeMessage(event))).toEqual({ ok: true, value: event });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an unknown event type', () => {
    fc.assert(
      fc.property(liveEventArb, fc.string(), (event, type) => {
        fc.pre(!['device.status', 'device.updated', 'telemetry'].includes(type));

        expect(sut.LiveEventSchema.safeParse({ ...event, type }).success).toBe(false);
      }),
    );
  });
});
