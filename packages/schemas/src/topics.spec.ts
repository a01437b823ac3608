import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEVICE_ID_PATTERN, DeviceIdSchema, isValidDeviceId } from './ids.js';
import * as sut from './topics.js';

const deviceId = fc.stringMatching(DEVICE_ID_PATTERN);

/**
 * Ids that would be valid but for one character MQTT gives a meaning in topics ('+', '#', '/') or '$',
 * so the reserved character is the only reason to refuse them.
 */
const idChars = fc.stringMatching(/^[A-Za-z0-9._-]{0,30}$/);
const withReservedChar = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9]$/), idChars, fc.constantFrom('+', '#', '/', '$'), idChars)
  .map(([first, head, reserved, tail]) => first + head + reserved + tail);
const leadingDollar = idChars.map((rest) => `$${rest}`);
/** Every way an id can be wrong: reserved characters, leading '$', empty, too long, other characters. */
const invalidId = fc.oneof(
  withReservedChar,
  leadingDollar,
  fc.constant(''),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{64,80}$/),
  fc.string({ unit: 'binary', maxLength: 70 }).filter((s) => !DEVICE_ID_PATTERN.test(s)),
);

type Builder = { name: string; build: (device: string, command: string) => string; expected: object };

/** The builder of a device topic named like its channel (`topics.state` builds `.../up/state`). */
const deviceTopic = (
  direction: 'up' | 'down',
  name: 'birth' | 'status' | 'telemetry' | 'state' | 'events' | 'desired',
  device: string,
): Builder => ({
  name,
  build: (d) => sut.topics[name](d),
  expected: { direction, deviceId: device, channel: name },
});

/** The builder of a topic that carries a command id after its channel. */
const commandTopic = (
  direction: 'up' | 'down',
  name: 'result' | 'command',
  channel: 'results' | 'commands',
  device: string,
  command: string,
): Builder => ({
  name,
  build: (d, c) => sut.topics[name](d, c),
  expected: { direction, deviceId: device, channel, commandId: command },
});

const upBuilders = (device: string, command: string): Builder[] => [
  ...(['birth', 'status', 'telemetry', 'state', 'events'] as const).map((name) =>
    deviceTopic('up', name, device),
  ),
  commandTopic('up', 'result', 'results', device, command),
];
const downBuilders = (device: string, command: string): Builder[] => [
  deviceTopic('down', 'desired', device),
  commandTopic('down', 'command', 'commands', device, command),
];
const allBuilders = (device: string, command: string) => [
  ...upBuilders(device, command),
  ...downBuilders(device, command),
];

describe('topic builders and parseTopic', () => {
  it('parse every builder output back to the same parts', () => {
    fc.assert(
      fc.property(deviceId, deviceId, (device, command) => {
        for (const builder of allBuilders(device, command)) {
          expect(sut.parseTopic(builder.build(device, command)), builder.name).toEqual(builder.expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('lay topics out as agentbox/v1/devices/{deviceId}/{up|down}/{channel}[/{commandId}]', () => {
    expect(sut.topics.status('box-1')).toBe('agentbox/v1/devices/box-1/up/status');
    expect(sut.topics.result('box-1', 'c-9')).toBe('agentbox/v1/devices/box-1/up/results/c-9');
    expect(sut.topics.desired('box-1')).toBe('agentbox/v1/devices/box-1/down/desired');
    expect(sut.topics.command('box-1', 'c-9')).toBe('agentbox/v1/devices/box-1/down/commands/c-9');
    expect(sut.topics.sharedAllUpFilter()).toBe('$share/fleet/agentbox/v1/devices/+/up/#');
  });

  it('put up/ topics under the device up prefix and down/ topics under its down prefix, never the other', () => {
    fc.assert(
      fc.property(deviceId, deviceId, (device, command) => {
        for (const builder of upBuilders(device, command)) {
          const topic = builder.build(device, command);
          expect(sut.isUnder(topic, sut.deviceUpPrefix(device)), builder.name).toBe(true);
          expect(sut.isUnder(topic, sut.deviceDownPrefix(device)), builder.name).toBe(false);
        }
        for (const builder of downBuilders(device, command)) {
          const topic = builder.build(device, command);
          expect(sut.isUnder(topic, sut.deviceDownPrefix(device)), builder.name).toBe(true);
          expect(sut.isUnder(topic, sut.deviceUpPrefix(device)), builder.name).toBe(false);
        }
      }),
    );
  });

  it("keep one box's topics out of another box's subtree, even when one id is a prefix of the other", () => {
    fc.assert(
      fc.property(
        deviceId,
        deviceId,
        fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/),
        (device, command, suffix) => {
          const other = `${device}${suffix}`.slice(0, 64);
          fc.pre(other !== device);
          for (const builder of allBuilders(device, command)) {
            const topic = builder.build(device, command);
            expect(sut.isUnder(topic, sut.deviceUpPrefix(other)), builder.name).toBe(false);
            expect(sut.isUnder(topic, sut.deviceDownPrefix(other)), builder.name).toBe(false);
          }
          expect(sut.isUnder(sut.topics.deviceDownFilter(other), sut.deviceDownPrefix(device))).toBe(false);
        },
      ),
    );
  });

  it('build filters that carry wildcards and match no concrete topic layout', () => {
    fc.assert(
      fc.property(deviceId, (device) => {
        const filters = [
          sut.topics.deviceUpFilter(device),
          sut.topics.deviceDownFilter(device),
          sut.topics.allUpFilter(),
          sut.topics.sharedAllUpFilter(),
        ];
        for (const filter of filters) {
          expect(sut.hasWildcard(filter), filter).toBe(true);
          expect(sut.parseTopic(filter), filter).toBeNull();
        }
        expect(sut.topics.deviceUpFilter(device)).toBe(`${sut.deviceUpPrefix(device)}/#`);
        expect(sut.topics.deviceDownFilter(device)).toBe(`${sut.deviceDownPrefix(device)}/#`);
        for (const builder of allBuilders(device, 'c1'))
          expect(sut.hasWildcard(builder.build(device, 'c1'))).toBe(false);
      }),
    );
  });

  it('name the shared subscription group: $share/{group}/ then the all-up filter (MQTT-4.8.2)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), (group) => {
        expect(sut.topics.sharedAllUpFilter(group)).toBe(`$share/${group}/${sut.topics.allUpFilter()}`);
      }),
    );
  });
});

describe('isUnder', () => {
  it('is true only for topics strictly below the prefix, one "/" further down', () => {
    fc.assert(
      fc.property(deviceId, fc.string({ maxLength: 20 }), (device, rest) => {
        const prefix = sut.deviceUpPrefix(device);

        expect(sut.isUnder(prefix + rest, prefix)).toBe(rest.startsWith('/'));
      }),
    );
  });
});

describe('invalid ids', () => {
  it("are refused by DeviceIdSchema and isValidDeviceId when they hold '+', '#', '/' or '$'", () => {
    fc.assert(
      fc.property(fc.oneof(withReservedChar, leadingDollar), (id) => {
        expect(isValidDeviceId(id)).toBe(false);
        expect(DeviceIdSchema.safeParse(id).success).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('make every builder throw, in the device id and in the command id position', () => {
    fc.assert(
      fc.property(invalidId, deviceId, (bad, good) => {
        for (const builder of allBuilders(bad, good)) {
          expect(() => builder.build(bad, good), builder.name).toThrow(RangeError);
        }
        expect(() => sut.topics.result(good, bad)).toThrow(RangeError);
        expect(() => sut.topics.command(good, bad)).toThrow(RangeError);
        expect(() => sut.topics.deviceUpFilter(bad)).toThrow(RangeError);
        expect(() => sut.topics.deviceDownFilter(bad)).toThrow(RangeError);
        expect(() => sut.deviceUpPrefix(bad)).toThrow(RangeError);
        expect(() => sut.deviceDownPrefix(bad)).toThrow(RangeError);
      }),
      { numRuns: 500 },
    );
  });

  it('never come out of parseTopic', () => {
    fc.assert(
      fc.property(invalidId, deviceId, (bad, good) => {
        for (const builder of allBuilders(good, good)) {
          const topic = builder.build(good, good);
          const parts = topic.split('/');
          const withBadDevice = [...parts.slice(0, 3), bad, ...parts.slice(4)].join('/');
          expect(sut.parseTopic(withBadDevice), withBadDevice).toBeNull();
          if (parts.length === 7) {
            expect(sut.parseTopic([...parts.slice(0, 6), bad].join('/'))).toBeNull();
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseTopic on arbitrary strings', () => {
  it('returns null or parts that rebuild exactly the same topic', () => {
    const topicLike = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc
        .array(
          fc.oneof(
            deviceId,
            fc.constantFrom('up', 'down', 'results', 'commands', 'status', 'desired', 'stored', '', '+', '#'),
          ),
          {
            maxLength: 5,
          },
        )
        .map((levels) => [sut.TOPIC_ROOT, ...levels].join('/')),
    );
    fc.assert(
      fc.property(topicLike, (topic) => {
        const parsed = sut.parseTopic(topic);
        if (parsed === null) return;
        let rebuilt: string;
        switch (parsed.channel) {
          case 'results':
            rebuilt = sut.topics.result(parsed.deviceId, parsed.commandId);
            break;
          case 'commands':
            rebuilt = sut.topics.command(parsed.deviceId, parsed.commandId);
            break;
          case 'run-events':
            rebuilt = sut.topics.runEvents(parsed.deviceId);
            break;
          case 'runs':
          case 'usage':
          case 'update':
          case 'birth':
          case 'status':
          case 'telemetry':
          case 'state':
          case 'events':
          case 'desired':
          case 'stored':
            rebuilt = sut.topics[parsed.channel](parsed.deviceId);
            break;
        }
        expect(rebuilt).toBe(topic);
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses trailing slashes, missing command ids and up/down channel swaps', () => {
    fc.assert(
      fc.property(deviceId, (device) => {
        const root = `${sut.TOPIC_ROOT}/${device}`;
        for (const topic of [
          `${root}/up/status/`,
          `${root}/up/results`,
          `${root}/up/results/`,
          `${root}/down/commands`,
          `${root}/down/desired/x`,
          `${root}/up/desired`,
          `${root}/down/status`,
          `${root}/up/commands/c1`,
          `${root}/down/results/c1`,
          `${root}/up`,
          root,
          `${root}/up/+`,
          `${root}/up/#`,
        ]) {
          expect(sut.parseTopic(topic), topic).toBeNull();
        }
      }),
    );
  });
});
