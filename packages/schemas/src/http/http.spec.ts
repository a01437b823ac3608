import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sut from './index.js';
import { decodePayload, encodeMessage, type DecodeResult } from '../codec.js';
import { DEVICE_ID_PATTERN } from '../ids.js';
import { isValidName } from '../names.js';

const deviceId = fc.stringMatching(DEVICE_ID_PATTERN);
const text = (min: number, max: number) =>
  fc.string({ unit: 'binary', minLength: min, maxLength: Math.floor(max / 2) });
const hardwareId = fc.stringMatching(/^[A-Za-z0-9._:-]{8,128}$/);
const tag = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,49}$/);
/** Names round-trip only when they pass the name rule (names.ts); names.spec.ts tests the refusals. */
const name = text(1, 100).filter((value) => isValidName(value) && value === value.trim());

const loginArb: fc.Arbitrary<sut.LoginRequest> = fc.record({
  username: text(1, 100),
  password: text(1, 1_000),
});
const claimTokenCreateArb: fc.Arbitrary<sut.ClaimTokenCreateRequest> = fc.record(
  {
    ttlHours: fc.double({ min: Number.MIN_VALUE, max: 24 * 365, noNaN: true }),
    maxUses: fc.integer({ min: 1, max: 100_000 }),
    note: text(0, 200),
  },
  { requiredKeys: ['ttlHours', 'maxUses'] },
);
const provisionRequestArb: fc.Arbitrary<sut.ProvisionRequest> = fc.record(
  { claimToken: fc.string({ minLength: 16, maxLength: 100 }), hardwareId, name },
  { requiredKeys: ['claimToken', 'hardwareId'] },
);
const provisionResponseArb: fc.Arbitrary<sut.ProvisionResponse> = deviceId.chain((id) =>
  fc.record({
    deviceId: fc.constant(id),
    mqtt: fc.record({
      url: fc.webUrl().map((url) => url.replace(/^https?/, 'mqtt')),
      username: fc.constant(id),
      password: fc.string({ minLength: 16, maxLength: 64 }),
    }),
  }),
);
const deviceUpdateArb: fc.Arbitrary<sut.DeviceUpdateRequest> = fc.record(
  { name, tags: fc.array(tag, { maxLength: 50 }) },
  { requiredKeys: [] },
);
const apiErrorArb: fc.Arbitrary<sut.ApiError> = fc.record({
  statusCode: fc.integer({ min: 400, max: 599 }),
  code: fc.stringMatching(/^[A-Z][A-Z_]{0,30}$/),
  message: fc.string(),
});

function reasonOf(result: DecodeResult<unknown>): string {
  return result.ok ? 'ok' : result.reason;
}

describe('HTTP bodies round-trip through encodeMessage and decodePayload', () => {
  const cases = [
    ['LoginRequest', sut.LoginRequestSchema, loginArb],
    ['ClaimTokenCreateRequest', sut.ClaimTokenCreateRequestSchema, claimTokenCreateArb],
    ['ProvisionRequest', sut.ProvisionRequestSchema, provisionRequestArb],
    ['ProvisionResponse', sut.ProvisionResponseSchema, provisionResponseArb],
    ['DeviceUpdateRequest', sut.DeviceUpdateRequestSchema, deviceUpdateArb],
    ['ApiError', sut.ApiErrorSchema, apiErrorArb],
  ] as const;

  it.each(cases)('%s', (_name, schema, arb) => {
    fc.assert(
      fc.property(arb as fc.Arbitrary<unknown>, (body) => {
        expect(decodePayload(schema, encodeMessage(body))).toEqual({ ok: true, value: body });
      }),
      { numRuns: 200 },
    );
  });
});

describe('ClaimTokenCreateRequestSchema', () => {
  it('fills the defaults: 24 hours, one use', () => {
    expect(sut.ClaimTokenCreateRequestSchema.parse({})).toEqual({ ttlHours: 24, maxUses: 1 });
  });

  it('refuses a non-positive or over-a-year ttl and a fractional or non-positive maxUses', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ max: 0, noNaN: true }).map((ttlHours) => ({ ttlHours })),
          fc.double({ min: 8_760.001, noNaN: true }).map((ttlHours) => ({ ttlHours })),
          fc.integer({ max: 0 }).map((maxUses) => ({ maxUses })),
          fc
            .double({ min: 1, max: 100, noNaN: true })
            .filter((n) => !Number.isInteger(n))
            .map((maxUses) => ({ maxUses })),
        ),
        (body) => {
          expect(reasonOf(decodePayload(sut.ClaimTokenCreateRequestSchema, JSON.stringify(body)))).toBe(
            'invalid_schema',
          );
        },
      ),
    );
  });
});

describe('ProvisionRequestSchema', () => {
  it('refuses short claim tokens and hardware ids with characters outside the set', () => {
    fc.assert(
      fc.property(
        provisionRequestArb,
        fc.oneof(
          fc.string({ maxLength: 15 }).map((claimToken) => ({ claimToken })),
          fc.string({ maxLength: 7 }).map((hardwareId) => ({ hardwareId })),
          fc
            .tuple(hardwareId, fc.constantFrom('/', ' ', '$', '#', '+', 'é', '\n'))
            .map(([id, bad]) => ({ hardwareId: `${id}${bad}` })),
        ),
        (body, mutation) => {
          expect(
            reasonOf(decodePayload(sut.ProvisionRequestSchema, encodeMessage({ ...body, ...mutation }))),
          ).toBe('invalid_schema');
        },
      ),
    );
  });
});

describe('ProvisionResponseSchema', () => {
  it('refuses a device id or username that could not be an MQTT client id and topic level', () => {
    fc.assert(
      fc.property(provisionResponseArb, fc.constantFrom('a/b', '+', '#', '$SYS', ''), (body, bad) => {
        expect(sut.ProvisionResponseSchema.safeParse({ ...body, deviceId: bad }).success).toBe(false);
        expect(
          sut.ProvisionResponseSchema.safeParse({ ...body, mqtt: { ...body.mqtt, username: bad } }).success,
        ).toBe(false);
      }),
    );
  });
});

describe('DeviceUpdateRequestSchema', () => {
  it('refuses tags that start with a separator or hold other characters, and more than 50 tags', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(tag, fc.constantFrom('.', '-', ':', '_')).map(([t, lead]) => [`${lead}${t}`]),
          fc.tuple(tag, fc.constantFrom(' ', '/', ',', '#', 'é')).map(([t, bad]) => [`${t}${bad}`]),
          fc.array(tag, { minLength: 51, maxLength: 60 }),
          fc.constant(['']),
        ),
        (tags) => {
          expect(reasonOf(decodePayload(sut.DeviceUpdateRequestSchema, encodeMessage({ tags })))).toBe(
            'invalid_schema',
          );
        },
      ),
    );
  });
});

describe('ProviderUpdateRequestSchema', () => {
  it('leaves out what the request leaves out, so a rename keeps the models', () => {
    expect(sut.ProviderUpdateRequestSchema.parse({ name: 'DeepSeek' })).toEqual({ name: 'DeepSeek' });
  });
});
