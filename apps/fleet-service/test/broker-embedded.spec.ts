import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DesiredStateMessageSchema, SCHEMA_VERSION, encodeMessage, topics } from '@agentbox/schemas';
import { connectReasonCode, subscribeReasonCodes, syntheticSamples } from '@agentbox/test-support';
import { TelemetryStore } from '../src/modules/telemetry/telemetry.store.js';
import { DesiredStateService } from '../src/modules/desired-state/desired-state.service.js';
import { EmbeddedBroker } from '../src/modules/broker/embedded-broker.js';
import { MqttAuthorizer } from '../src/modules/broker/mqtt-authorizer.js';
import { BrokerRejections } from '../src/modules/broker/broker-rejections.js';
import { MetricsService } from '../src/modules/metrics/metrics.service.js';
import { connectBox, enrollBox, metricValue, startMqttSide, useMqttSide, waitFor } from './broker-harness.js';

describe('embedded broker: per-box rules over real MQTT 5 connections', () => {
  const { side, a, b, connect: box } = useMqttSide('hw-broker');

  it('is ready and tells boxes its real port', () => {
    expect(side.broker.isReady()).toBe(true);
    expect(side.broker.port).toBeGreaterThan(0);
    expect(side.broker.publicUrl()).toBe(`mqtt://127.0.0.1:${side.broker.port}`);
  });

  it('refuses bad CONNECTs with MQTT 5 reason codes and counts them', async () => {
    const before = await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'bad_credentials' });
    expect(
      await connectReasonCode(side.url, {
        clientId: a.deviceId,
        username: a.deviceId,
        password: 'wrong-secret',
      }),
    ).toBe(0x86);
    expect(
      await connectReasonCode(side.url, { clientId: b.deviceId, username: a.deviceId, password: a.secret }),
    ).toBe(0x85);
    expect(
      await connectReasonCode(side.url, { clientId: '$SYS', username: '$SYS', password: a.secret }),
    ).toBe(0x86);
    expect(await connectReasonCode(side.url, { clientId: 'a+b', username: 'a+b', password: a.secret })).toBe(
      0x86,
    );
    expect(
      await connectReasonCode(side.url, {
        clientId: 'fleet:service:x',
        username: 'fleet:service',
        password: 'guess',
      }),
    ).toBe(0x86);
    expect(
      await connectReasonCode(side.url, { clientId: a.deviceId, username: a.deviceId, password: a.secret }),
    ).toBe(0);
    expect(await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'bad_credentials' })).toBe(
      before + 2,
    );
    expect(
      await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'client_id_mismatch' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'invalid_username' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('refuses a publish to another box topic with 0x87, counts it, and keeps the connection', async () => {
    const client = await box(a);
    await waitFor(
      'one box connected',
      async () => (await metricValue(side, 'agentbox_mqtt_connected_boxes')) === 1,
    );
    const before = await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'publish_denied' });
    await expect(
      client.publishRaw(topics.telemetry(b.deviceId), client.encode({ samples: syntheticSamples(1) })),
    ).rejects.toThrow(/Not authorized/);
    await expect(client.publishRaw(topics.desired(a.deviceId), '{}')).rejects.toThrow(/Not authorized/);
    await expect(client.publishRaw('$SYS/x', '{}')).rejects.toThrow(/Not authorized/);
    expect(await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'publish_denied' })).toBe(
      before + 3,
    );
    expect(client.connected).toBe(true);
    await side.ingest.drain();
    const store = side.app.get(TelemetryStore);
    expect(await store.query(b.deviceId, 0, 10)).toHaveLength(0);
  });

  it('keeps nothing a box sends on unknown channels or retains outside up/status (0x87, counted)', async () => {
    const client = await box(a);
    const rejections = async () => ({
      unknown: await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'unknown_channel' }),
      retain: await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'retain_denied' }),
    });
    const before = await rejections();
    // Over the retained cap (4 KiB), under this broker's packet cap (16 KiB).
    const big = Buffer.alloc(8 * 1024, 'x');
    const root = `agentbox/v1/devices/${a.deviceId}/up`;
    for (let i = 0; i < 5; i++) {
      await expect(client.publishRaw(`${root}/junk-${i}`, big, { retain: true })).rejects.toThrow(
        /Not authorized/,
      );
    }
    await expect(
      client.publishRaw(topics.telemetry(a.deviceId), client.encode({ samples: syntheticSamples(1) }), {
        retain: true,
      }),
    ).rejects.toThrow(/Not authorized/);
    await expect(client.publishRaw(topics.status(a.deviceId), big, { retain: true })).rejects.toThrow(
      /Not authorized/,
    );
    // The protocol's own retained message still goes through.
    await client.status('online');
    expect(await rejections()).toEqual({ unknown: before.unknown + 5, retain: before.retain + 2 });
    expect(client.connected).toBe(true);
    // Nothing of it was kept: a fresh subscriber to the box's whole up/ gets only its retained status.
    const retained = await side.retainedTopics(`${root}/#`);
    expect(retained).toEqual([topics.status(a.deviceId)]);
  });

  it('never publishes a Last Will aimed at another box', async () => {
    const victim = await box(b);
    await victim.status('online');
    await waitFor('victim online', async () => (await side.devices.get(b.deviceId)).online);
    const before = await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'publish_denied' });
    const forgedWill = encodeMessage({ v: SCHEMA_VERSION, seq: 1, ts: Date.now(), state: 'offline' });
    const attacker = await connectBox(side, a, {
      mqtt: { will: { topic: topics.status(b.deviceId), payload: forgedWill, qos: 1, retain: true } },
    });
    await attacker.drop();
    await waitFor(
      'forged will refused',
      async () =>
        (await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'publish_denied' })) ===
        before + 1,
    );
    await side.ingest.drain();
    expect((await side.devices.get(b.deviceId)).online).toBe(true);
  });

  it('refuses subscriptions outside the box own down/ (0x87; $share is 0x9E: not supported)', async () => {
    const client = await box(b);
    const codes = await subscribeReasonCodes(client.client, [
      topics.deviceDownFilter(b.deviceId),
      topics.deviceDownFilter(a.deviceId),
      'agentbox/v1/devices/+/down/#',
      'agentbox/v1/devices/#',
      '#',
      '$SYS/#',
      topics.deviceUpFilter(b.deviceId),
    ]);
    expect(codes).toEqual([1, 0x87, 0x87, 0x87, 0x87, 0x87, 0x87]);
    expect(
      await subscribeReasonCodes(client.client, [`$share/g/${topics.deviceDownFilter(b.deviceId)}`]),
    ).toEqual([0x9e]);
  });

  it('closes a connection whose packet exceeds the cap with 0x95 and counts it', async () => {
    const client = await box(a);
    const before = await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'packet_too_large' });
    const disconnected = new Promise<number | undefined>((resolve) =>
      client.client.once('disconnect', (packet) => resolve(packet.reasonCode)),
    );
    client.client.publish(topics.telemetry(a.deviceId), Buffer.alloc(64 * 1024, 'x'), { qos: 1 });
    expect(await disconnected).toBe(0x95);
    await waitFor(
      'packet_too_large counted',
      async () =>
        (await metricValue(side, 'agentbox_mqtt_rejections_total', { reason: 'packet_too_large' })) ===
        before + 1,
    );
  });

  it('marks a box online, publishes its desired state retained, and marks it offline by its Last Will', async () => {
    const client = await box(a);
    const desired = client.desired;
    expect(await subscribeReasonCodes(client.client, [topics.deviceDownFilter(a.deviceId)])).toEqual([1]);
    await client.status('online');
    await waitFor('online', async () => (await side.devices.get(a.deviceId)).online);
    const first = await waitFor('desired v0', () => desired[0]);
    expect(DesiredStateMessageSchema.parse(first)).toMatchObject({ version: 0, spec: {} });

    await side.app.get(DesiredStateService).setDesired(a.deviceId, { telemetry: { intervalSec: 5 } });
    const second = await waitFor('desired v1', () =>
      desired.find((d) => (d as { version: number }).version === 1),
    );
    expect(second).toMatchObject({ version: 1, spec: { telemetry: { intervalSec: 5 } } });

    // Kill the TCP connection without DISCONNECT: the broker publishes the Will.
    await client.drop();
    await waitFor('offline by Last Will', async () => !(await side.devices.get(a.deviceId)).online);

    // A later connection finds the latest desired document retained.
    const again = await box(a);
    const retained = new Promise<{ version: number; retain: boolean }>((resolve) =>
      again.client.once('message', (_topic, payload, packet) =>
        resolve({ ...(JSON.parse(payload.toString()) as { version: number }), retain: packet.retain }),
      ),
    );
    await again.subscribe([topics.desired(a.deviceId)]);
    expect(await retained).toMatchObject({ version: 1, retain: true });
  });
});

describe('embedded broker: removing a box', () => {
  it('disconnects it and clears its retained desired state', async () => {
    const side = await startMqttSide();
    try {
      const gone = await enrollBox(side, 'hw-broker-gone');
      const client = await connectBox(side, gone);
      await side.app.get(DesiredStateService).ensurePublished(gone.deviceId);
      const closed = new Promise<void>((resolve) => client.client.once('close', () => resolve()));
      await side.broker.removeDevice(gone.deviceId);
      await closed;
      await client.drop();
      // Credentials still valid here (the registry row stays), so the box can look for a retained document.
      const again = await connectBox(side, gone);
      const received: Buffer[] = [];
      again.client.on('message', (_topic, payload) => received.push(payload));
      await again.subscribe([topics.desired(gone.deviceId)]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received).toEqual([]);
      await again.drop();
    } finally {
      await side.close();
    }
  });
});

describe('embedded broker: listening port', () => {
  /** Makes brokers that share one metrics registry (with the gauge `gaugeName`) and refuse every box. */
  function brokerFactory(gaugeName: string): () => EmbeddedBroker {
    const metrics = new MetricsService();
    const rejections = new BrokerRejections(metrics);
    const gauge = metrics.gauge({ name: gaugeName, help: 'test' });
    return () =>
      new EmbeddedBroker(
        new MqttAuthorizer({ verifyCredentials: () => Promise.resolve(false) }, 'x'),
        rejections,
        gauge,
        (message) => message.settle('stored'),
      );
  }

  /** A loopback port another listener holds until `blocker.close()`. */
  async function takenPort() {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    return { blocker, taken: (blocker.address() as AddressInfo).port };
  }

  it('falls back to a free port when the default is taken, and fails when the port was set explicitly', async () => {
    const { blocker, taken } = await takenPort();
    const make = brokerFactory('connected_boxes_test');
    const sut = make();
    try {
      const port = await sut.start({
        host: '127.0.0.1',
        port: taken,
        portExplicit: false,
        maxPayloadBytes: 1024,
        maxPendingConnects: 256,
      });
      expect(port).not.toBe(taken);
      expect(sut.isListening()).toBe(true);
      const explicit = make();
      await expect(
        explicit.start({
          host: '127.0.0.1',
          port: taken,
          portExplicit: true,
          maxPayloadBytes: 1024,
          maxPendingConnects: 256,
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await explicit.stop();
    } finally {
      await sut.stop();
      blocker.close();
    }
  });

  it('takes the port of the previous fallback again, so enrolled boxes keep their URL', async () => {
    const { blocker, taken } = await takenPort();
    const make = brokerFactory('connected_boxes_fallback_test');
    const options = {
      host: '127.0.0.1',
      port: taken,
      portExplicit: false,
      maxPayloadBytes: 1024,
      maxPendingConnects: 256,
    };
    const first = make();
    const chosen = await first.start(options);
    await first.stop();
    const second = make();
    try {
      expect(await second.start({ ...options, fallbackPort: chosen })).toBe(chosen);
    } finally {
      await second.stop();
      blocker.close();
    }
  });
});
