import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import { useTempDir } from '@agentbox/test-support/vitest';
import { SCHEMA_VERSION, parseTopic, topics, type TelemetryMessage } from '@agentbox/schemas';
import { enrolledBox } from '../../../test/support/enrolled-box.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { LinkService } from '../link/link.service.js';
import type { SequenceService } from '../sequence/sequence.service.js';
import type { OutboxService } from './outbox.service.js';

/** Polls every 20 ms: the broker runs in this process. */
const until = (what: string, check: () => boolean) =>
  waitFor(what, check, { timeoutMs: 10_000, intervalMs: 20 });

describe('OutboxService against a real broker', () => {
  const dir = useTempDir('agentbox-outbox-');
  let broker: Aedes;
  let server: Server;
  let link: LinkService;
  let sut: OutboxService;
  let seq: SequenceService;
  let identity: IdentityService;
  const received: TelemetryMessage[] = [];
  /** Whether the broker's "fleet" confirms storage with `down/stored` (docs/protocol.md). */
  let confirming = true;

  const confirm = (deviceId: string, epoch: string, first: number, last = first) =>
    new Promise<void>((resolve) =>
      broker.publish(
        {
          cmd: 'publish',
          topic: topics.stored(deviceId),
          payload: Buffer.from(JSON.stringify({ v: SCHEMA_VERSION, epoch, ranges: [[first, last]] })),
          qos: 1,
          retain: false,
          dup: false,
        },
        () => resolve(),
      ),
    );

  beforeEach(async () => {
    received.length = 0;
    confirming = true;
    // The broker refuses `up/events` with PUBACK 0x87 (MQTT 5) and accepts the rest.
    broker = await Aedes.createBroker({
      authorizePublish: (_client, packet, done) =>
        done(packet.topic.endsWith('/up/events') ? new Error('denied') : null),
    });
    broker.on('publish', (packet, client) => {
      if (client && packet.topic.endsWith('/up/telemetry')) {
        const message = JSON.parse(packet.payload.toString()) as TelemetryMessage;
        received.push(message);
        const deviceId = parseTopic(packet.topic)?.deviceId;
        if (confirming && message.spool && deviceId)
          void confirm(deviceId, message.spool.epoch, message.spool.first, message.spool.last);
      }
    });
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({
      link,
      seq,
      identity,
      outbox: sut,
    } = await enrolledBox(dir.path, {
      mqttUrl: url,
      env: { AGENTBOX_LOG_LEVEL: 'silent' },
    }));
    await sut.open();
  });

  afterEach(async () => {
    await link.stop();
    await sut.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const telemetry = (): TelemetryMessage => {
    const ts = Date.now();
    return { v: SCHEMA_VERSION, seq: seq.next(), ts, samples: [{ ts, values: { 'cpu.usage_pct': 1 } }] };
  };

  it('publishes what was spooled while offline in one message, in order, and acks it', async () => {
    const sent = [telemetry(), telemetry(), telemetry()];
    const ids: number[] = [];
    for (const message of sent) ids.push(await sut.append('telemetry', message));
    expect(sut.stats()?.records).toBe(3);
    link.start();
    await until('an empty spool', () => sut.stats()?.records === 0);
    expect(received).toHaveLength(1);
    const [message] = received;
    // The first record's seq; the samples, concatenated in spool order, are told apart by their index.
    expect(message?.seq).toBe(sent[0]?.seq);
    expect(message?.samples).toEqual(sent.flatMap((m) => m.samples));
    expect(message?.spool).toMatchObject({ first: ids[0], last: ids[2], acked: ids[0]! - 1, dropped: 0 });
  });

  it('drops a record the broker refuses for good instead of blocking the queue behind it', async () => {
    link.start();
    await until('the link up', () => link.connected);
    const first = telemetry();
    await sut.append('telemetry', first);
    await sut.event({ type: 'test.refused', level: 'info', message: 'the broker refuses up/events here' });
    const last = telemetry();
    await sut.append('telemetry', last);
    await until('2 messages at the broker', () => received.length === 2);
    // The refused event ends the first group: the two telemetry records go as two messages.
    expect(received.map((message) => message.seq)).toEqual([first.seq, last.seq]);
    await until('an empty spool', () => sut.stats()?.records === 0);
    expect(sut.refused).toBe(1);
  });

  it('coalesces a backlog of telemetry into few messages, in order', async () => {
    const sent = Array.from({ length: 1_234 }, () => telemetry());
    await sut.event({ type: 'test.note', level: 'info', message: 'events go alone' });
    for (const message of sent) await sut.append('telemetry', message);
    link.start();
    await until('an empty spool', () => sut.stats()?.records === 0);
    // 1,234 samples, at most 1,000 a message: two messages, cut at the 1,000th sample.
    expect(received.map((message) => [message.seq, message.samples.length])).toEqual([
      [sent[0]?.seq, 1_000],
      [sent[1_000]?.seq, 234],
    ]);
    expect(received.flatMap((message) => message.samples)).toEqual(sent.flatMap((m) => m.samples));
  });

  it('keeps what the broker acknowledged until the fleet confirms storing it, then deletes it', async () => {
    confirming = false;
    link.start();
    await until('the link up', () => link.connected);
    const first = await sut.append('telemetry', telemetry());
    await until('the message at the broker', () => received.length === 1);
    // Acknowledged by the broker, not confirmed: it stays on disk.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sut.stats()?.records).toBe(1);
    expect(sut.published).toBe(0);
    await confirm(identity.deviceId, 'another-epoch', first);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sut.stats()?.records).toBe(1);
    await confirm(identity.deviceId, received[0]!.spool!.epoch, first);
    await until('an empty spool', () => sut.stats()?.records === 0);
    expect(received).toHaveLength(1);
  });

  it('sends again what the fleet did not confirm in time, under the same seq', async () => {
    confirming = false;
    sut.storedTimeout.baseMs = 300;
    link.start();
    await until('the link up', () => link.connected);
    const message = telemetry();
    await sut.append('telemetry', message);
    await until('the message sent twice', () => received.length >= 2);
    expect(sut.unconfirmedRounds).toBeGreaterThanOrEqual(1);
    expect(received[1]).toEqual(received[0]);
    expect(received[0]?.seq).toBe(message.seq);
    confirming = true;
    await until('an empty spool', () => sut.stats()?.records === 0);
  });
});
