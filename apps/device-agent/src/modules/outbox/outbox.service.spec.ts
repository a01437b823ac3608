import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import { useTempDir } from '@agentbox/test-support/vitest';
import { SCHEMA_VERSION, type TelemetryMessage } from '@agentbox/schemas';
import { enrolledBox } from '../../../test/support/enrolled-box.js';
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
  const received: { topic: string; seq: number }[] = [];

  beforeEach(async () => {
    received.length = 0;
    // The broker refuses `up/events` with PUBACK 0x87 (MQTT 5) and accepts the rest.
    broker = await Aedes.createBroker({
      authorizePublish: (_client, packet, done) =>
        done(packet.topic.endsWith('/up/events') ? new Error('denied') : null),
    });
    broker.on('publish', (packet, client) => {
      if (client && packet.topic.endsWith('/up/telemetry')) {
        received.push({
          topic: packet.topic,
          seq: (JSON.parse(packet.payload.toString()) as { seq: number }).seq,
        });
      }
    });
    server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({
      link,
      seq,
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

  it('publishes what was spooled while offline, in order, and acks it', async () => {
    const sent = [telemetry(), telemetry(), telemetry()];
    for (const message of sent) await sut.append('telemetry', message);
    expect(sut.stats()?.records).toBe(3);
    link.start();
    await until('3 records at the broker', () => received.length === 3);
    expect(received.map((message) => message.seq)).toEqual(sent.map((message) => message.seq));
    await until('an empty spool', () => sut.stats()?.records === 0);
  });

  it('drops a record the broker refuses for good instead of blocking the queue behind it', async () => {
    link.start();
    await until('the link up', () => link.connected);
    const first = telemetry();
    await sut.append('telemetry', first);
    await sut.event({ type: 'test.refused', level: 'info', message: 'the broker refuses up/events here' });
    const last = telemetry();
    await sut.append('telemetry', last);
    await until('2 records at the broker', () => received.length === 2);
    expect(received.map((message) => message.seq)).toEqual([first.seq, last.seq]);
    await until('an empty spool', () => sut.stats()?.records === 0);
    expect(sut.refused).toBe(1);
  });

  it('keeps more than one publish window of records in order', async () => {
    const sent = Array.from({ length: 55 }, () => telemetry());
    for (const message of sent) await sut.append('telemetry', message);
    link.start();
    await until('55 records at the broker', () => received.length >= 55);
    expect(received.map((message) => message.seq)).toEqual(sent.map((message) => message.seq));
  });
});
