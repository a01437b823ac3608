import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sut from './codec.js';
import { DEVICE_ID_PATTERN } from './ids.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, SCHEMA_VERSION } from './limits.js';
import {
  CommandMessageSchema,
  DesiredStateMessageSchema,
  METRIC_NAME_PATTERN,
  type BirthMessage,
  type CommandMessage,
  type CommandResultMessage,
  type DesiredStateMessage,
  type EventsMessage,
  type ReportedStateMessage,
  type RunEventsMessage,
  type RunsMessage,
  type UpdateMessage,
  type UsageMessage,
  type StatusMessage,
  type TelemetryMessage,
  type UpMessageByChannel,
} from './messages.js';
import { TOPIC_ROOT, topics, type UpChannel } from './topics.js';

// ---------------------------------------------------------------- arbitraries of valid messages

const deviceId = fc.stringMatching(DEVICE_ID_PATTERN);
const epochMs = fc.maxSafeNat();
/** Any code point (astral ones count 2 in a JS string length, so halve the budget). */
const text = (max: number) => fc.string({ unit: 'binary', maxLength: Math.floor(max / 2) });
const metricName = fc.stringMatching(METRIC_NAME_PATTERN).filter((name) => name.length <= 100);
/** JSON has no -0: it comes back as 0, so it is not a value a sender can mean. */
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));
const jsonValue: fc.Arbitrary<unknown> = fc
  .jsonValue()
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);
/**
 * Object keys of free-form records. zod drops an own `__proto__` key of a record (so no parsed object ever
 * gets a foreign prototype); messages.spec.ts checks that, and the round trips leave the key out.
 */
const recordKey = fc.string({ unit: 'binary', maxLength: 20 }).filter((key) => key !== '__proto__');
const jsonRecord = fc.dictionary(recordKey, jsonValue, { maxKeys: 5, noNullPrototype: true });
const base = { v: fc.constant(SCHEMA_VERSION), seq: fc.maxSafeNat(), ts: epochMs };

const statusArb: fc.Arbitrary<StatusMessage> = fc.record(
  { ...base, state: fc.constantFrom('online' as const, 'offline' as const), reason: text(200) },
  { requiredKeys: ['v', 'seq', 'ts', 'state'] },
);

const birthArb: fc.Arbitrary<BirthMessage> = fc.record({
  ...base,
  agentVersion: text(64),
  bootId: text(64),
  hardware: fc.record(
    {
      hostname: text(255),
      platform: text(32),
      arch: text(32),
      osRelease: text(255),
      cpuModel: text(255),
      cpuCores: fc.integer({ min: 1, max: 4096 }),
      memTotalBytes: fc.maxSafeNat(),
      machineId: text(128),
    },
    { requiredKeys: ['hostname', 'platform', 'arch', 'cpuCores', 'memTotalBytes'] },
  ),
  capabilities: fc.array(text(64), { maxLength: 10 }),
  metrics: fc.array(metricName, { maxLength: 10 }),
  telemetryIntervalSec: fc.double({ min: Number.MIN_VALUE, max: 86_400, noNaN: true }),
});

const sampleArb = fc.record({
  ts: epochMs,
  values: fc.dictionary(metricName, finite, { maxKeys: 8, noNullPrototype: true }),
});

const telemetryArb: fc.Arbitrary<TelemetryMessage> = fc.record({
  ...base,
  samples: fc.array(sampleArb, { minLength: 1, maxLength: 5 }),
});

const reportedStateArb: fc.Arbitrary<ReportedStateMessage> = fc.record({
  ...base,
  desiredVersion: fc.option(fc.maxSafeNat(), { nil: null }),
  current: fc.dictionary(
    recordKey.filter((key) => key !== 'agents'),
    jsonValue,
    { maxKeys: 5, noNullPrototype: true },
  ),
});

const eventsArb: fc.Arbitrary<EventsMessage> = fc.record({
  ...base,
  events: fc.array(
    fc.record(
      {
        type: fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }),
        level: fc.constantFrom('debug' as const, 'info' as const, 'warn' as const, 'error' as const),
        message: text(2_000),
        data: jsonRecord,
      },
      { requiredKeys: ['type', 'level', 'message'] },
    ),
    { minLength: 1, maxLength: 5 },
  ),
});

const commandResultArb: fc.Arbitrary<CommandResultMessage> = fc.record(
  {
    ...base,
    commandId: deviceId,
    status: fc.constantFrom('succeeded' as const, 'failed' as const, 'rejected' as const, 'expired' as const),
    output: jsonValue,
    error: text(2_000),
  },
  { requiredKeys: ['v', 'seq', 'ts', 'commandId', 'status'] },
);

const recordId = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);
const slug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
const tokens = fc.integer({ min: 0, max: 1_000_000 });

const runsArb: fc.Arbitrary<RunsMessage> = fc.record({
  ...base,
  runs: fc.array(
    fc.record(
      {
        id: recordId,
        agentId: slug,
        agentVersion: fc.integer({ min: 1, max: 1_000 }),
        trigger: fc.record({
          type: fc.constantFrom('cron' as const, 'interval' as const, 'message' as const),
        }),
        status: fc.constantFrom('running' as const, 'succeeded' as const, 'interrupted' as const),
        output: text(1_000),
        createdAt: epochMs,
        steps: fc.integer({ min: 0, max: 100 }),
        usage: fc.record({ inputTokens: tokens, outputTokens: tokens }),
      },
      { requiredKeys: ['id', 'agentId', 'agentVersion', 'trigger', 'status', 'createdAt', 'steps', 'usage'] },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

const runEventsArb: fc.Arbitrary<RunEventsMessage> = fc.record({
  ...base,
  events: fc.array(
    fc.record(
      {
        runId: recordId,
        agentId: slug,
        index: fc.integer({ min: 0, max: 1_000 }),
        ts: epochMs,
        type: fc.constantFrom('step' as const, 'tool-call' as const, 'text' as const),
        name: text(200),
        data: jsonValue,
      },
      { requiredKeys: ['runId', 'agentId', 'index', 'ts', 'type'] },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

const usageArb: fc.Arbitrary<UsageMessage> = fc.record({
  ...base,
  records: fc.array(
    fc.record({
      id: recordId,
      agentId: slug,
      provider: slug,
      model: fc.string({ minLength: 1, maxLength: 50 }),
      ts: epochMs,
      inputTokens: tokens,
      outputTokens: tokens,
      estimated: fc.boolean(),
      outcome: fc.constantFrom('ok' as const, 'error' as const, 'aborted' as const),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

const semver = fc
  .tuple(fc.nat(99), fc.nat(99), fc.nat(99))
  .map(([major, minor, patch]) => `${major}.${minor}.${patch}`);
const updateArb: fc.Arbitrary<UpdateMessage> = fc.record({
  ...base,
  reports: fc.array(
    fc.record(
      {
        rolloutId: fc.string({ minLength: 1, maxLength: 64 }),
        version: semver,
        status: fc.constantFrom('downloading' as const, 'healthy' as const, 'rolled-back' as const),
        reason: fc.constantFrom('hash-mismatch' as const, 'health-check-failed' as const),
        detail: text(500),
        progress: fc.record({ bytes: fc.maxSafeNat(), total: fc.maxSafeNat() }),
        runningVersion: semver,
        ts: epochMs,
      },
      { requiredKeys: ['rolloutId', 'version', 'status', 'runningVersion', 'ts'] },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

const desiredStateArb: fc.Arbitrary<DesiredStateMessage> = fc
  .tuple(
    fc.record({ v: fc.constant(SCHEMA_VERSION), version: fc.maxSafeNat(), ts: epochMs }),
    fc.dictionary(
      recordKey.filter((key) => !['telemetry', 'agents', 'providers', 'update'].includes(key)),
      jsonValue,
      { maxKeys: 4, noNullPrototype: true },
    ),
    fc.option(fc.record({ intervalSec: fc.double({ min: 1, max: 3_600, noNaN: true }) }), { nil: undefined }),
  )
  .map(([head, extra, telemetry]) => ({ ...head, spec: telemetry ? { ...extra, telemetry } : extra }));

const commandArb: fc.Arbitrary<CommandMessage> = fc.record({
  v: fc.constant(SCHEMA_VERSION),
  id: deviceId,
  name: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,63}$/),
  args: jsonRecord,
  issuedAt: epochMs,
  expiresAt: epochMs,
});

type UpCase = { [K in UpChannel]: { channel: K; message: UpMessageByChannel[K] } }[UpChannel];

const upCaseArbs: { [K in UpChannel]: fc.Arbitrary<Extract<UpCase, { channel: K }>> } = {
  status: statusArb.map((message) => ({ channel: 'status' as const, message })),
  birth: birthArb.map((message) => ({ channel: 'birth' as const, message })),
  telemetry: telemetryArb.map((message) => ({ channel: 'telemetry' as const, message })),
  state: reportedStateArb.map((message) => ({ channel: 'state' as const, message })),
  events: eventsArb.map((message) => ({ channel: 'events' as const, message })),
  results: commandResultArb.map((message) => ({ channel: 'results' as const, message })),
  runs: runsArb.map((message) => ({ channel: 'runs' as const, message })),
  'run-events': runEventsArb.map((message) => ({ channel: 'run-events' as const, message })),
  usage: usageArb.map((message) => ({ channel: 'usage' as const, message })),
  update: updateArb.map((message) => ({ channel: 'update' as const, message })),
};
const upCaseArb: fc.Arbitrary<UpCase> = fc.oneof(...Object.values(upCaseArbs));
const UP_CHANNELS = Object.keys(upCaseArbs) as UpChannel[];
/** Valid messages of one channel, on the topic they travel on. */
const upCaseOf = (channel: UpChannel) => upCaseArbs[channel] as fc.Arbitrary<UpCase>;

function topicFor(device: string, upCase: UpCase): string {
  switch (upCase.channel) {
    case 'results':
      return topics.result(device, upCase.message.commandId);
    case 'run-events':
      return topics.runEvents(device);
    case 'runs':
    case 'usage':
    case 'update':
    case 'status':
    case 'birth':
    case 'telemetry':
    case 'state':
    case 'events':
      return topics[upCase.channel](device);
  }
}

/**
 * The same bytes handed over as a Buffer, a plain Uint8Array (MQTT.js and Aedes differ), a string, or a
 * view into a larger buffer (a packet slice) surrounded by bytes that are not UTF-8 and not JSON.
 */
const payloadForm = fc.constantFrom('buffer', 'uint8array', 'string', 'view');
function asPayload(bytes: Buffer, form: string): Uint8Array | string {
  if (form === 'string') return bytes.toString('utf8');
  if (form === 'uint8array') return new Uint8Array(bytes);
  if (form === 'view') {
    const packet = Buffer.alloc(bytes.byteLength + 7, 0xff);
    bytes.copy(packet, 3);
    return packet.subarray(3, 3 + bytes.byteLength);
  }
  return bytes;
}

function reasonOf(result: sut.DecodeResult<unknown>): sut.RejectionReason | 'ok' {
  return result.ok ? 'ok' : result.reason;
}

// ---------------------------------------------------------------- round trips

describe('encodeMessage -> decodeUpMessage', () => {
  it.each(UP_CHANNELS)('round-trips every valid %s message', (channel) => {
    fc.assert(
      fc.property(deviceId, upCaseOf(channel), payloadForm, (device, upCase, form) => {
        const topic = topicFor(device, upCase);

        const decoded = sut.decodeUpMessage(topic, asPayload(sut.encodeMessage(upCase.message), form));

        const expectedTopic =
          upCase.channel === 'results'
            ? { direction: 'up', deviceId: device, channel, commandId: upCase.message.commandId }
            : { direction: 'up', deviceId: device, channel };
        expect(decoded).toEqual({
          ok: true,
          value: { topic: expectedTopic, channel, message: upCase.message },
        });
      }),
      { numRuns: 200 },
    );
  });

  it('accepts a payload of exactly the cap and any well-formed JSON layout (whitespace, key order)', () => {
    fc.assert(
      fc.property(deviceId, statusArb, (device, message) => {
        const spaced = Buffer.from(
          JSON.stringify(Object.fromEntries(Object.entries(message).reverse()), null, 2),
        );

        const decoded = sut.decodeUpMessage(topics.status(device), spaced, spaced.byteLength);

        expect(decoded.ok && decoded.value.message).toEqual(message);
      }),
    );
  });
});

describe('encodeMessage -> decodePayload (cloud to device)', () => {
  it('round-trips every valid desired-state document', () => {
    fc.assert(
      fc.property(desiredStateArb, payloadForm, (message, form) => {
        const decoded = sut.decodePayload(
          DesiredStateMessageSchema,
          asPayload(sut.encodeMessage(message), form),
        );

        expect(decoded).toEqual({ ok: true, value: message });
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips every valid command', () => {
    fc.assert(
      fc.property(commandArb, payloadForm, (message, form) => {
        const decoded = sut.decodePayload(CommandMessageSchema, asPayload(sut.encodeMessage(message), form));

        expect(decoded).toEqual({ ok: true, value: message });
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------- malformed_json

function isUtf8Json(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

describe('malformed_json', () => {
  it('refuses random bytes that are not a UTF-8 JSON text', () => {
    fc.assert(
      fc.property(
        deviceId,
        fc.constantFrom('status', 'birth', 'telemetry', 'state', 'events', 'results'),
        fc.uint8Array({ maxLength: 300 }).filter((bytes) => !isUtf8Json(bytes)),
        (device, channel, bytes) => {
          const topic = channel === 'results' ? topics.result(device, 'c1') : topics[channel](device);

          expect(reasonOf(sut.decodeUpMessage(topic, bytes))).toBe('malformed_json');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses every truncation of a valid message', () => {
    fc.assert(
      fc.property(
        deviceId,
        upCaseArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (device, upCase, at) => {
          const bytes = sut.encodeMessage(upCase.message);
          const truncated = bytes.subarray(0, Math.floor(at * bytes.byteLength));

          expect(reasonOf(sut.decodeUpMessage(topicFor(device, upCase), truncated))).toBe('malformed_json');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses invalid UTF-8 inside an otherwise valid message instead of replacing it', () => {
    fc.assert(
      fc.property(
        deviceId,
        statusArb,
        fc.constantFrom(
          [0xff],
          [0xc0, 0x80],
          [0xed, 0xa0, 0x80],
          [0xe2, 0x82],
          [0xf8, 0x88, 0x80, 0x80, 0x80],
        ),
        (device, message, badSequence) => {
          const [head, tail] = JSON.stringify({ ...message, reason: '\u0000' }).split('\\u0000');
          const bytes = Buffer.concat([Buffer.from(head!), Buffer.from(badSequence), Buffer.from(tail!)]);

          expect(reasonOf(sut.decodeUpMessage(topics.status(device), bytes))).toBe('malformed_json');
        },
      ),
    );
  });

  it('refuses a byte order mark before the JSON text', () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      sut.encodeMessage({ v: 1, seq: 0, ts: 0, state: 'online' }),
    ]);

    expect(reasonOf(sut.decodeUpMessage(topics.status('box-1'), bytes))).toBe('malformed_json');
  });
});

// ---------------------------------------------------------------- invalid_schema

type Mutation = { describe: string; apply: (message: Record<string, unknown>) => Record<string, unknown> };

type JsonType = 'number' | 'string' | 'boolean' | 'null' | 'object' | 'array';

/** A top-level field a channel must have, of one of `types`. */
const required = (...types: JsonType[]) => ({ types, required: true });
/** A top-level field a channel may leave out, of one of `types` when present. */
const optional = (...types: JsonType[]) => ({ types, required: false });
/** v, seq and ts: the envelope every device message starts with. */
const ENVELOPE = { v: required('number'), seq: required('number'), ts: required('number') };

/** The top-level fields of each channel and the JSON types each one admits. */
const FIELD_TYPES: Record<UpChannel, Record<string, { types: JsonType[]; required: boolean }>> = {
  status: { ...ENVELOPE, state: required('string'), reason: optional('string') },
  birth: {
    ...ENVELOPE,
    agentVersion: required('string'),
    bootId: required('string'),
    hardware: required('object'),
    capabilities: required('array'),
    metrics: required('array'),
    telemetryIntervalSec: required('number'),
  },
  telemetry: { ...ENVELOPE, samples: required('array') },
  state: { ...ENVELOPE, desiredVersion: required('number', 'null'), current: required('object') },
  events: { ...ENVELOPE, events: required('array') },
  results: {
    ...ENVELOPE,
    commandId: required('string'),
    status: required('string'),
    error: optional('string'),
  },
  runs: { ...ENVELOPE, runs: required('array') },
  'run-events': { ...ENVELOPE, events: required('array') },
  usage: { ...ENVELOPE, records: required('array') },
  update: { ...ENVELOPE, reports: required('array') },
};

const valueOfType: Record<JsonType, fc.Arbitrary<unknown>> = {
  number: fc.integer(),
  string: fc.string(),
  boolean: fc.boolean(),
  null: fc.constant(null),
  object: fc.dictionary(recordKey, jsonValue, { maxKeys: 2, noNullPrototype: true }),
  array: fc.array(jsonValue, { maxLength: 2 }),
};

function mutationsFor(channel: UpChannel): fc.Arbitrary<Mutation> {
  const fields = Object.entries(FIELD_TYPES[channel]);
  const wrongType = fc.constantFrom(...fields).chain(([field, { types }]) =>
    fc
      .constantFrom(...(Object.keys(valueOfType) as JsonType[]).filter((type) => !types.includes(type)))
      .chain((type) => valueOfType[type])
      .map((value): Mutation => ({
        describe: `${field} <- ${JSON.stringify(value)}`,
        apply: (m) => ({ ...m, [field]: value }),
      })),
  );
  const missing = fc
    .constantFrom(...fields.filter(([, { required }]) => required).map(([field]) => field))
    .map((field): Mutation => ({
      describe: `without ${field}`,
      apply: ({ [field]: _dropped, ...rest }) => rest,
    }));
  const otherVersion = fc
    .integer()
    .filter((v) => v !== SCHEMA_VERSION)
    .map((v): Mutation => ({ describe: `v: ${v}`, apply: (m) => ({ ...m, v }) }));
  const badSeq = fc
    .oneof(
      fc.integer({ max: -1 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
      fc.constant(Number.MAX_SAFE_INTEGER + 1),
    )
    .map((seq): Mutation => ({ describe: `seq: ${seq}`, apply: (m) => ({ ...m, seq }) }));
  const badTs = fc
    .oneof(
      fc.integer({ max: -1 }),
      fc.double({ min: 0.1, max: 1e12, noNaN: true }).filter((n) => !Number.isInteger(n)),
    )
    .map((ts): Mutation => ({ describe: `ts: ${ts}`, apply: (m) => ({ ...m, ts }) }));
  return fc.oneof(wrongType, missing, otherVersion, badSeq, badTs);
}

describe('invalid_schema', () => {
  it.each(UP_CHANNELS)('refuses a %s message with one field broken', (channel) => {
    fc.assert(
      fc.property(deviceId, upCaseOf(channel), mutationsFor(channel), (device, upCase, mutation) => {
        const broken = mutation.apply(upCase.message);
        // A broken commandId must not be caught by the topic check first: keep the topic valid.
        const topic = channel === 'results' ? topics.result(device, 'cmd-1') : topicFor(device, upCase);

        expect(reasonOf(sut.decodeUpMessage(topic, sut.encodeMessage(broken))), mutation.describe).toBe(
          'invalid_schema',
        );
      }),
      { numRuns: 300 },
    );
  });

  it('refuses valid JSON that is not an object', () => {
    fc.assert(
      fc.property(
        deviceId,
        fc.jsonValue().filter((value) => value === null || typeof value !== 'object' || Array.isArray(value)),
        (device, value) => {
          expect(reasonOf(sut.decodeUpMessage(topics.telemetry(device), JSON.stringify(value)))).toBe(
            'invalid_schema',
          );
        },
      ),
    );
  });

  it('refuses a non-finite metric value (1e999 parses to Infinity)', () => {
    fc.assert(
      fc.property(
        deviceId,
        telemetryArb,
        metricName,
        fc.constantFrom('1e999', '-1e999', '1E400'),
        (device, message, name, literal) => {
          const placeholder = 'NON-FINITE'; // metric names are lower case, so this cannot occur elsewhere
          const samples = [
            { ...message.samples[0]!, values: { ...message.samples[0]!.values, [name]: placeholder } },
          ];
          const payload = JSON.stringify({ ...message, samples }).replace(`"${placeholder}"`, literal);

          expect(reasonOf(sut.decodeUpMessage(topics.telemetry(device), payload))).toBe('invalid_schema');
        },
      ),
    );
  });

  it('refuses a metric name outside the pattern, in telemetry and in birth', () => {
    const badName = fc
      .string({ unit: 'binary', maxLength: 120 })
      .filter((n) => !METRIC_NAME_PATTERN.test(n) || n.length > 100);
    fc.assert(
      fc.property(deviceId, telemetryArb, birthArb, badName, (device, telemetry, birth, name) => {
        fc.pre(name !== '__proto__'); // zod drops that key rather than refusing it (see messages.spec.ts)
        const samples = [
          { ...telemetry.samples[0]!, values: { ...telemetry.samples[0]!.values, [name]: 1 } },
        ];
        const telemetryPayload = sut.encodeMessage({ ...telemetry, samples });
        const birthPayload = sut.encodeMessage({ ...birth, metrics: [...birth.metrics, name] });

        expect(reasonOf(sut.decodeUpMessage(topics.telemetry(device), telemetryPayload))).toBe(
          'invalid_schema',
        );
        expect(reasonOf(sut.decodeUpMessage(topics.birth(device), birthPayload))).toBe('invalid_schema');
      }),
    );
  });

  it('names the offending field in the detail', () => {
    const decoded = sut.decodeUpMessage(
      topics.status('box-1'),
      JSON.stringify({ v: 1, seq: -1, ts: 0, state: 'online' }),
    );

    expect(decoded).toEqual({ ok: false, reason: 'invalid_schema', detail: expect.stringContaining('seq') });
  });
});

// ---------------------------------------------------------------- payload_too_large

describe('payload_too_large', () => {
  const multiByte = fc.string({ unit: fc.constantFrom('é', '€', '𝄞', 'a'), minLength: 1, maxLength: 200 });

  it('applies the cap to bytes, not characters, for every payload form', () => {
    fc.assert(
      fc.property(deviceId, statusArb, multiByte, payloadForm, (device, message, reason, form) => {
        const bytes = sut.encodeMessage({ ...message, reason });
        const payload = asPayload(bytes, form);

        expect(reasonOf(sut.decodeUpMessage(topics.status(device), payload, bytes.byteLength))).toBe('ok');
        expect(reasonOf(sut.decodeUpMessage(topics.status(device), payload, bytes.byteLength - 1))).toBe(
          'payload_too_large',
        );
      }),
    );
  });

  it('refuses a multi-byte payload whose character count is under the cap but byte count is over', () => {
    const json = JSON.stringify({ v: 1, seq: 1, ts: 1, state: 'online', reason: '€'.repeat(100) });
    const cap = json.length + 10; // 100 x '€' is 300 bytes but 100 UTF-16 units

    expect(reasonOf(sut.decodeUpMessage(topics.status('box-1'), json, cap))).toBe('payload_too_large');
    expect(reasonOf(sut.decodeUpMessage(topics.status('box-1'), Buffer.from(json), cap))).toBe(
      'payload_too_large',
    );
  });

  it('defaults to 256 KiB: a payload of exactly the cap passes, one byte more is refused', () => {
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(262_144);
    const empty = JSON.stringify({ v: 1, seq: 1, ts: 1, desiredVersion: null, current: { pad: '' } });
    const atCap = empty.replace(
      '"pad":""',
      `"pad":"${'x'.repeat(DEFAULT_MAX_PAYLOAD_BYTES - empty.length)}"`,
    );
    expect(Buffer.byteLength(atCap)).toBe(DEFAULT_MAX_PAYLOAD_BYTES);

    expect(reasonOf(sut.decodeUpMessage(topics.state('box-1'), Buffer.from(atCap)))).toBe('ok');
    expect(
      reasonOf(sut.decodeUpMessage(topics.state('box-1'), Buffer.from(atCap.replace('"pad":"', '"pad":"x')))),
    ).toBe('payload_too_large');
  });

  it('checks the size before parsing, so oversize garbage is counted as too large', () => {
    fc.assert(
      fc.property(deviceId, fc.uint8Array({ minLength: 11, maxLength: 100 }), (device, bytes) => {
        expect(reasonOf(sut.decodeUpMessage(topics.events(device), bytes, 10))).toBe('payload_too_large');
        expect(reasonOf(sut.decodePayload(CommandMessageSchema, bytes, 10))).toBe('payload_too_large');
      }),
    );
  });
});

// ---------------------------------------------------------------- unknown_topic

describe('unknown_topic', () => {
  const validUp = fc
    .tuple(deviceId, upCaseArb)
    .map(([device, upCase]) => ({ topic: topicFor(device, upCase), upCase }));

  it('refuses topics under any other root', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), upCaseArb, (topic, upCase) => {
        fc.pre(!topic.startsWith(`${TOPIC_ROOT}/`));

        expect(reasonOf(sut.decodeUpMessage(topic, sut.encodeMessage(upCase.message)))).toBe('unknown_topic');
      }),
    );
  });

  it('refuses a valid up topic moved under a look-alike root', () => {
    fc.assert(
      fc.property(
        validUp,
        fc.constantFrom(
          'agentbox/v2/devices',
          'agentbox/v1/device',
          'Agentbox/v1/devices',
          '/agentbox/v1/devices',
          '$SYS',
        ),
        ({ topic, upCase }, root) => {
          const moved = root + topic.slice(TOPIC_ROOT.length);

          expect(reasonOf(sut.decodeUpMessage(moved, sut.encodeMessage(upCase.message)))).toBe(
            'unknown_topic',
          );
        },
      ),
    );
  });

  it('refuses down/ topics passed to decodeUpMessage, even with a valid payload', () => {
    fc.assert(
      fc.property(deviceId, desiredStateArb, commandArb, (device, desired, command) => {
        expect(reasonOf(sut.decodeUpMessage(topics.desired(device), sut.encodeMessage(desired)))).toBe(
          'unknown_topic',
        );
        expect(
          reasonOf(sut.decodeUpMessage(topics.command(device, command.id), sut.encodeMessage(command))),
        ).toBe('unknown_topic');
      }),
    );
  });

  it('refuses extra levels, missing levels and unknown channels', () => {
    fc.assert(
      fc.property(validUp, fc.string({ maxLength: 10 }), ({ topic, upCase }, level) => {
        const payload = sut.encodeMessage(upCase.message);
        const channelTopic = topic.split('/').slice(0, 6).join('/');

        expect(reasonOf(sut.decodeUpMessage(`${topic}/${level}`, payload))).toBe('unknown_topic');
        expect(reasonOf(sut.decodeUpMessage(topic.split('/').slice(0, 5).join('/'), payload))).toBe(
          'unknown_topic',
        );
        if (upCase.channel === 'results') {
          expect(reasonOf(sut.decodeUpMessage(channelTopic, payload))).toBe('unknown_topic');
        }
        expect(reasonOf(sut.decodeUpMessage(`${channelTopic}x`, payload))).toBe('unknown_topic');
      }),
    );
  });

  it('checks the topic before the size, so a bad topic is never counted as anything else', () => {
    fc.assert(
      fc.property(deviceId, fc.uint8Array({ minLength: 2, maxLength: 50 }), (device, bytes) => {
        expect(reasonOf(sut.decodeUpMessage(topics.desired(device), bytes, 1))).toBe('unknown_topic');
      }),
    );
  });
});

// ---------------------------------------------------------------- topic_mismatch

describe('topic_mismatch', () => {
  it('refuses a result whose commandId differs from the topic', () => {
    fc.assert(
      fc.property(deviceId, commandResultArb, deviceId, (device, message, topicCommandId) => {
        fc.pre(topicCommandId !== message.commandId);

        const decoded = sut.decodeUpMessage(
          topics.result(device, topicCommandId),
          sut.encodeMessage(message),
        );

        expect(reasonOf(decoded)).toBe('topic_mismatch');
      }),
    );
  });
});

describe('REJECTION_REASONS', () => {
  it('lists exactly the reasons the decoder produces (they are metric labels)', () => {
    expect([...sut.REJECTION_REASONS].sort()).toEqual(
      ['invalid_schema', 'malformed_json', 'payload_too_large', 'topic_mismatch', 'unknown_topic'].sort(),
    );
  });
});
