import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DOWN_CHANNELS, UP_CHANNELS } from './topics.js';
import * as sut from './messages.js';

const status: sut.StatusMessage = { v: 1, seq: 7, ts: 1_700_000_000_000, state: 'online' };
const telemetry: sut.TelemetryMessage = {
  v: 1,
  seq: 8,
  ts: 1_700_000_000_000,
  samples: [{ ts: 1_700_000_000_000, values: { 'cpu.usage_pct': 12.5 } }],
};
const desired: sut.DesiredStateMessage = { v: 1, version: 3, ts: 1_700_000_000_000, spec: {} };
const command: sut.CommandMessage = {
  v: 1,
  id: 'cmd-1',
  name: 'agent.restart',
  args: {},
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_700_000_060_000,
};

describe('DeviceMessageBaseSchema', () => {
  it('accepts every safe non-negative integer seq and ts', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (seq, ts) => {
        expect(sut.DeviceMessageBaseSchema.safeParse({ v: 1, seq, ts }).success).toBe(true);
      }),
    );
  });

  it('refuses a negative, fractional, unsafe or non-number seq', () => {
    const badSeq = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double({ noNaN: true }).filter((n) => !Number.isInteger(n)),
      fc.integer({ min: Number.MAX_SAFE_INTEGER + 1, max: Number.MAX_SAFE_INTEGER * 2 }),
      fc.constant(Number.MAX_SAFE_INTEGER + 1),
      fc.constant(Number.NaN),
      fc.string().map((s): unknown => s),
      fc.constant(null),
    );
    fc.assert(
      fc.property(badSeq, (seq) => {
        expect(sut.DeviceMessageBaseSchema.safeParse({ v: 1, seq, ts: 0 }).success).toBe(false);
      }),
    );
  });

  it('refuses any schema version but 1', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant('1')), (v) => {
        fc.pre(v !== 1);
        expect(sut.DeviceMessageBaseSchema.safeParse({ v, seq: 0, ts: 0 }).success).toBe(false);
        expect(sut.DesiredStateMessageSchema.safeParse({ ...desired, v }).success).toBe(false);
        expect(sut.CommandMessageSchema.safeParse({ ...command, v }).success).toBe(false);
      }),
    );
  });
});

describe('unknown fields', () => {
  it('are dropped from device messages rather than refused, so a newer sender does not break an older receiver', () => {
    fc.assert(
      fc.property(
        fc.string().filter((key) => !(key in status) && key !== 'reason' && key !== '__proto__'),
        fc.jsonValue(),
        (key, value) => {
          const parsed = sut.StatusMessageSchema.safeParse({ ...status, [key]: value });

          expect(parsed.success && parsed.data).toEqual(status);
        },
      ),
    );
  });

  it('are kept in the desired-state spec, which is free-form apart from telemetry', () => {
    fc.assert(
      fc.property(
        fc.string().filter((key) => key !== 'telemetry' && key !== '__proto__'),
        fc.jsonValue(),
        (key, value) => {
          const parsed = sut.DesiredStateMessageSchema.safeParse({ ...desired, spec: { [key]: value } });

          expect(parsed.success && Object.hasOwn(parsed.data.spec, key)).toBe(true);
        },
      ),
    );
  });
});

describe('free-form records', () => {
  it('drop an own "__proto__" key and never hand out an object with a foreign prototype', () => {
    const payload = '{"__proto__":{"polluted":true},"ok":1}';
    const parsed = [
      sut.ReportedStateMessageSchema.parse({
        v: 1,
        seq: 0,
        ts: 0,
        desiredVersion: null,
        current: JSON.parse(payload),
      }).current,
      sut.CommandMessageSchema.parse({ ...command, args: JSON.parse(payload) }).args,
      sut.DeviceEventSchema.parse({ type: 't', level: 'info', message: '', data: JSON.parse(payload) }).data!,
      sut.DesiredStateMessageSchema.parse({ ...desired, spec: JSON.parse(payload) }).spec,
    ];

    for (const record of parsed) {
      expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
      expect(Object.keys(record)).toEqual(['ok']);
      expect((record as { polluted?: unknown }).polluted).toBeUndefined();
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('MetricNameSchema', () => {
  it('accepts dotted lower-case names up to 100 characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(sut.METRIC_NAME_PATTERN), (name) => {
        expect(sut.MetricNameSchema.safeParse(name).success).toBe(name.length <= 100);
      }),
    );
  });

  it('refuses upper case, a leading digit or dot, empty or doubled dots, and other characters', () => {
    const broken = fc
      .tuple(
        fc.stringMatching(sut.METRIC_NAME_PATTERN),
        fc.constantFrom('A', '.', '..', '-', ' ', '/', 'é', '$'),
      )
      .chain(([name, bad]) =>
        fc.constantFrom(
          `${bad}${name}`,
          `${name}${bad === '.' ? '.' : bad}`,
          `${name}${bad}${name}`.replace(/^\.*/, bad),
        ),
      )
      .filter((name) => !/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(name));
    fc.assert(
      fc.property(fc.oneof(broken, fc.stringMatching(/^[0-9][a-z0-9_.]{0,10}$/), fc.constant('')), (name) => {
        expect(sut.MetricNameSchema.safeParse(name).success).toBe(false);
      }),
    );
  });
});

describe('TelemetryMessageSchema', () => {
  it('refuses non-finite values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
        (value) => {
          const samples = [{ ts: 0, values: { 'cpu.usage_pct': value } }];

          expect(sut.TelemetryMessageSchema.safeParse({ ...telemetry, samples }).success).toBe(false);
        },
      ),
    );
  });

  it('takes 1 to 1000 samples', () => {
    const sample = telemetry.samples[0]!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_200 }), (count) => {
        const samples = Array.from({ length: count }, () => sample);

        expect(sut.TelemetryMessageSchema.safeParse({ ...telemetry, samples }).success).toBe(
          count >= 1 && count <= 1_000,
        );
      }),
      { numRuns: 50 },
    );
  });
});

describe('EventsMessageSchema', () => {
  it('takes 1 to 100 events of a known level', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120 }),
        fc.constantFrom('debug', 'info', 'warn', 'error', 'fatal', 'INFO', ''),
        (count, level) => {
          const events = Array.from({ length: count }, () => ({ type: 'agent.crash', level, message: 'm' }));
          const ok = count >= 1 && count <= 100 && ['debug', 'info', 'warn', 'error'].includes(level);

          expect(sut.EventsMessageSchema.safeParse({ ...status, events }).success).toBe(ok);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('DesiredStateMessageSchema', () => {
  it('bounds the telemetry interval to 1..3600 seconds', () => {
    fc.assert(
      fc.property(fc.double({ min: -10, max: 4_000, noNaN: true }), (intervalSec) => {
        const parsed = sut.DesiredStateMessageSchema.safeParse({
          ...desired,
          spec: { telemetry: { intervalSec } },
        });

        expect(parsed.success).toBe(intervalSec >= 1 && intervalSec <= 3_600);
      }),
    );
  });
});

describe('CommandMessageSchema', () => {
  it('accepts lower-case command names and refuses others', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (name) => {
        const expected = /^[a-z][a-z0-9_.-]{0,63}$/.test(name);

        expect(sut.CommandMessageSchema.safeParse({ ...command, name }).success).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a command id that could not be a topic level', () => {
    fc.assert(
      fc.property(fc.constantFrom('+', '#', '/', '$x', 'a/b', '', 'x'.repeat(65)), (id) => {
        expect(sut.CommandMessageSchema.safeParse({ ...command, id }).success).toBe(false);
        expect(
          sut.CommandResultMessageSchema.safeParse({ ...status, commandId: id, status: 'succeeded' }).success,
        ).toBe(false);
      }),
    );
  });
});

describe('channel schema maps', () => {
  it('hold exactly one schema per up/ and down/ channel', () => {
    expect(Object.keys(sut.upMessageSchemas).sort()).toEqual([...UP_CHANNELS].sort());
    expect(Object.keys(sut.downMessageSchemas).sort()).toEqual([...DOWN_CHANNELS].sort());
  });
});

describe('SpoolPositionSchema', () => {
  const spool = { epoch: 'b3f1c2d4e5f60718', first: 5, last: 9, acked: 4, dropped: 0 };

  it('is optional on the spooled channels, so boxes without it keep working', () => {
    expect(sut.TelemetryMessageSchema.parse(telemetry)).toEqual(telemetry);
    expect(sut.TelemetryMessageSchema.parse({ ...telemetry, spool })).toEqual({ ...telemetry, spool });
    const events = { ...status, events: [{ type: 't', level: 'info', message: 'm' }] };
    expect(sut.EventsMessageSchema.parse({ ...events, spool }).spool).toEqual(spool);
  });

  it('refuses positions that cannot come from a spool', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (first, last, acked) => {
        const valid = first >= 1 && first <= last && acked < first;
        const parsed = sut.SpoolPositionSchema.safeParse({ ...spool, first, last, acked });
        expect(parsed.success).toBe(valid);
      }),
    );
    expect(sut.SpoolPositionSchema.safeParse({ ...spool, epoch: '' }).success).toBe(false);
    expect(sut.SpoolPositionSchema.safeParse({ ...spool, dropped: -1 }).success).toBe(false);
  });
});
