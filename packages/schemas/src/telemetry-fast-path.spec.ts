import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodePayload } from './codec.js';
import {
  DeviceMessageBaseSchema,
  METRIC_NAME_PATTERN,
  TelemetryMessageSchema,
  TelemetrySampleSchema,
} from './messages.js';
import { compileTelemetryFastPath, telemetryFastPath } from './telemetry-fast-path.js';

const fast = telemetryFastPath!;

const metricName = fc.stringMatching(METRIC_NAME_PATTERN).filter((name) => name.length <= 100);
const sample = fc.record({
  ts: fc.maxSafeNat(),
  values: fc.dictionary(metricName, fc.double({ noNaN: true, noDefaultInfinity: true }), { maxKeys: 12 }),
});
const spool = fc
  .record({
    epoch: fc.string({ minLength: 1, maxLength: 64 }),
    first: fc.integer({ min: 1, max: 2 ** 40 }),
    span: fc.nat(1_000),
    behind: fc.nat(1_000),
    dropped: fc.maxSafeNat(),
  })
  .map(({ epoch, first, span, behind, dropped }) => ({
    epoch,
    first,
    last: first + span,
    acked: Math.max(0, first - 1 - behind),
    dropped,
  }));
const message = fc.record(
  {
    v: fc.constant(1),
    seq: fc.maxSafeNat(),
    ts: fc.maxSafeNat(),
    samples: fc.array(sample, { minLength: 1, maxLength: 20 }),
    spool,
  },
  { requiredKeys: ['v', 'seq', 'ts', 'samples'] },
);

/** A JSON value as a box's payload would carry it after JSON.parse. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

/** Something JSON can carry where the schema wants something else, or nearly the same. */
const oddValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(-1, 0.5, 2 ** 53, -0, 1e308, '1', '', null, [], {}, true),
  fc.string(),
  fc.double(),
  fc.integer(),
);

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** A valid message with one thing changed: a field replaced, removed or added, at any depth. */
const mutated = fc
  .tuple(message, fc.nat(), fc.nat(), fc.constantFrom('set', 'delete', 'add'), fc.string(), oddValue)
  .map(([valid, pick, samplePick, how, key, value]) => {
    const json = asJson(valid) as Json & { samples: Json[] };
    const target = json.samples[samplePick % json.samples.length]!;
    const places: Json[] = [json, target, target.values as Json];
    if (isJson(json.spool)) places.push(json.spool);
    const place = places[pick % places.length]!;
    const keys = Object.keys(place);
    const existing = keys.length > 0 ? keys[pick % keys.length]! : key;
    if (how === 'set') place[existing] = value;
    else if (how === 'delete') delete place[existing];
    else place[key] = value;
    return json;
  });

describe('telemetry fast path', () => {
  it('is active for the schema as it is (a changed schema needs the fast path brought along)', () => {
    expect(telemetryFastPath).toBeDefined();
    // The bounds the fast path checks by hand; when this changes, so must telemetry-fast-path.ts.
    expect(z.toJSONSchema(TelemetryMessageSchema)).toMatchInlineSnapshot(`
      {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "additionalProperties": false,
        "properties": {
          "samples": {
            "items": {
              "additionalProperties": false,
              "properties": {
                "ts": {
                  "description": "milliseconds since the Unix epoch",
                  "maximum": 9007199254740991,
                  "minimum": 0,
                  "type": "integer",
                },
                "values": {
                  "additionalProperties": {
                    "type": "number",
                  },
                  "propertyNames": {
                    "maxLength": 100,
                    "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$",
                    "type": "string",
                  },
                  "type": "object",
                },
              },
              "required": [
                "ts",
                "values",
              ],
              "type": "object",
            },
            "maxItems": 1000,
            "minItems": 1,
            "type": "array",
          },
          "seq": {
            "maximum": 9007199254740991,
            "minimum": 0,
            "type": "integer",
          },
          "spool": {
            "additionalProperties": false,
            "properties": {
              "acked": {
                "maximum": 9007199254740991,
                "minimum": 0,
                "type": "integer",
              },
              "dropped": {
                "maximum": 9007199254740991,
                "minimum": 0,
                "type": "integer",
              },
              "epoch": {
                "maxLength": 64,
                "minLength": 1,
                "type": "string",
              },
              "first": {
                "exclusiveMinimum": 0,
                "maximum": 9007199254740991,
                "type": "integer",
              },
              "last": {
                "exclusiveMinimum": 0,
                "maximum": 9007199254740991,
                "type": "integer",
              },
            },
            "required": [
              "epoch",
              "first",
              "last",
              "acked",
              "dropped",
            ],
            "type": "object",
          },
          "ts": {
            "description": "milliseconds since the Unix epoch",
            "maximum": 9007199254740991,
            "minimum": 0,
            "type": "integer",
          },
          "v": {
            "const": 1,
            "type": "number",
          },
        },
        "required": [
          "v",
          "seq",
          "ts",
          "samples",
        ],
        "type": "object",
      }
    `);
  });

  it('accepts every valid message, unchanged, as zod does (property)', () => {
    fc.assert(
      fc.property(message, (valid) => {
        const json = asJson(valid);
        const parsed = TelemetryMessageSchema.safeParse(json);
        expect(parsed.success).toBe(true);
        expect(fast(json)).toEqual(parsed.data);
      }),
    );
  });

  it('never accepts what zod refuses or would change, and decodes exactly as zod alone (property)', () => {
    fc.assert(
      fc.property(fc.oneof(mutated, oddValue, fc.anything()), (input) => {
        const accepted = fast(input);
        const parsed = TelemetryMessageSchema.safeParse(input);
        if (accepted !== undefined) {
          expect(parsed.success).toBe(true);
          expect(accepted).toStrictEqual(parsed.data);
        }
        let text: string | undefined;
        try {
          text = JSON.stringify(input);
        } catch {
          text = undefined;
        }
        if (text === undefined) return;
        expect(decodePayload(TelemetryMessageSchema, text, 1e9, fast)).toEqual(
          decodePayload(TelemetryMessageSchema, text, 1e9),
        );
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves refusals and their wording to zod', () => {
    const payload = JSON.stringify({ v: 1, seq: 1, ts: 1, samples: [{ ts: 1, values: { 'Bad Name': 1 } }] });
    const decoded = decodePayload(TelemetryMessageSchema, payload, 1e6, fast);
    expect(decoded).toEqual(decodePayload(TelemetryMessageSchema, payload));
    expect(decoded.ok).toBe(false);
  });

  it('agrees with zod at the bounds: 1,000 samples, a 100-character metric name, 2^53 - 1', () => {
    const name = `a${'b'.repeat(99)}`;
    const at = (count: number, metric: string, seq: number) =>
      JSON.stringify({
        v: 1,
        seq,
        ts: 1,
        samples: Array.from({ length: count }, (_, i) => ({ ts: i, values: { [metric]: i } })),
      });
    for (const payload of [
      at(1_000, name, Number.MAX_SAFE_INTEGER),
      at(1_001, 'a', 1),
      at(1, `${name}c`, 1),
      at(1, 'a', Number.MAX_SAFE_INTEGER + 1),
      at(0, 'a', 1),
    ]) {
      expect(decodePayload(TelemetryMessageSchema, payload, 1e9, fast)).toEqual(
        decodePayload(TelemetryMessageSchema, payload, 1e9),
      );
    }
    expect(decodePayload(TelemetryMessageSchema, at(1_000, name, 5), 1e9, fast).ok).toBe(true);
  });

  it('agrees with zod on spool positions at their bounds', () => {
    const base = { v: 1, seq: 7, ts: 1, samples: [{ ts: 1, values: { 'cpu.usage_pct': 1 } }] };
    const spools = [
      { epoch: 'e', first: 5, last: 5, acked: 4, dropped: 0 },
      { epoch: 'e', first: 5, last: 5, acked: 5, dropped: 0 },
      { epoch: 'e', first: 6, last: 5, acked: 4, dropped: 0 },
      { epoch: 'e', first: 0, last: 0, acked: 0, dropped: 0 },
      { epoch: '', first: 5, last: 5, acked: 4, dropped: 0 },
      { epoch: 'x'.repeat(64), first: 1, last: 2 ** 53 - 1, acked: 0, dropped: 2 ** 53 - 1 },
      { epoch: 'x'.repeat(65), first: 1, last: 1, acked: 0, dropped: 0 },
      { epoch: 'e', first: 1.5, last: 2, acked: 0, dropped: 0 },
      { epoch: 'e', first: 1, last: 1, acked: 0, dropped: -1 },
      { epoch: 'e', first: 1, last: 1, acked: 0 },
      { epoch: 'e', first: 1, last: 1, acked: 0, dropped: 0, extra: 1 },
    ];
    for (const spool of spools) {
      const json = asJson({ ...base, spool });
      expect(fast(json) !== undefined, JSON.stringify(spool)).toBe(
        TelemetryMessageSchema.safeParse(json).success && !('extra' in spool),
      );
    }
  });

  it('steps aside for a schema with a field it does not know, at either level', () => {
    const withNote = TelemetryMessageSchema.extend({ note: z.string().optional() });
    expect(compileTelemetryFastPath(withNote)).toBeUndefined();
    const baseWithField = DeviceMessageBaseSchema.extend({ bootId: z.string().default('x') }).extend({
      samples: TelemetryMessageSchema.shape.samples,
    });
    expect(compileTelemetryFastPath(baseWithField)).toBeUndefined();
    const sampleWithField = TelemetryMessageSchema.extend({
      samples: z.array(TelemetrySampleSchema.extend({ unit: z.string().optional() })).min(1),
    });
    expect(compileTelemetryFastPath(sampleWithField)).toBeUndefined();
    expect(compileTelemetryFastPath(TelemetryMessageSchema)).toBeDefined();
  });
});
