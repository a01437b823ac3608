import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { topics } from '@agentbox/schemas';
import { CommandSender } from '../src/modules/broker/command-sender.js';
import { DesiredStateService } from '../src/modules/desired-state/desired-state.service.js';
import { TelemetryStore } from '../src/modules/telemetry/telemetry.store.js';
import {
  connectBox,
  enrollBox,
  metricValue,
  startMqttSide,
  useMqttSide,
  waitFor,
  type MqttSide,
} from './broker-harness.js';
import {
  connectReasonCode,
  startMosquitto,
  subscribeReasonCodes,
  syntheticSamples,
  type PrivateMosquitto,
} from '@agentbox/test-support';

const INFRA_CONFIG = new URL('../../../infra/mosquitto/mosquitto.conf', import.meta.url).pathname;

describe('external Mosquitto with dynamic security: the same per-box rules', () => {
  let mosquitto: PrivateMosquitto;

  // Registered before the side's hooks: the broker is up before the side starts and stops after it.
  beforeAll(async () => {
    mosquitto = await startMosquitto();
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  const {
    side,
    a,
    b,
    connect: box,
  } = useMqttSide('hw-mosq', () => ({
    AGENTBOX_MQTT_URL: mosquitto.url,
    AGENTBOX_MQTT_USERNAME: mosquitto.username,
    AGENTBOX_MQTT_PASSWORD: mosquitto.password,
    AGENTBOX_MQTT_DYNSEC: 'true',
  }));

  it('tells boxes the external broker URL', () => {
    expect(side.broker.mode).toBe('external');
    expect(side.broker.publicUrl()).toBe(mosquitto.url);
  });

  it('refuses a wrong secret, a foreign client id and an unknown box', async () => {
    expect(
      await connectReasonCode(side.url, { clientId: a.deviceId, username: a.deviceId, password: 'wrong' }),
    ).not.toBe(0);
    expect(
      await connectReasonCode(side.url, { clientId: b.deviceId, username: a.deviceId, password: a.secret }),
    ).not.toBe(0);
    expect(
      await connectReasonCode(side.url, { clientId: 'nobody', username: 'nobody', password: a.secret }),
    ).not.toBe(0);
    expect(
      await connectReasonCode(side.url, { clientId: a.deviceId, username: a.deviceId, password: a.secret }),
    ).toBe(0);
  });

  it('lets a box publish only under its own up/ and subscribe only under its own down/', async () => {
    const client = await box(a);
    await expect(
      client.publishRaw(topics.telemetry(b.deviceId), client.encode({ samples: syntheticSamples(1) })),
    ).rejects.toThrow();
    // Only the protocol's channels (docs/protocol.md section 1): nothing for the broker to keep elsewhere.
    await expect(
      client.publishRaw(`agentbox/v1/devices/${a.deviceId}/up/junk`, 'x'.repeat(1_000), { retain: true }),
    ).rejects.toThrow();
    await client.publishRaw(topics.result(a.deviceId, 'cmd-1'), client.encode({ x: 1 }));
    const codes = await subscribeReasonCodes(client.client, [
      topics.deviceDownFilter(a.deviceId),
      topics.deviceDownFilter(b.deviceId),
      'agentbox/v1/devices/+/down/#',
      '#',
      '$SYS/#',
    ]);
    expect(codes[0]).toBe(1);
    expect(codes.slice(1).every((code) => code >= 0x80)).toBe(true);
  });

  it('ingests through the shared subscription and publishes the desired state retained', async () => {
    const client = await box(b);
    await client.goOnline();
    await client.telemetry(syntheticSamples(2));
    await waitFor('online', async () => (await side.devices.get(b.deviceId)).online);
    expect(await waitFor('desired state', () => client.desired[0], 30_000)).toMatchObject({ version: 0 });
    const store = side.app.get(TelemetryStore);
    await waitFor('telemetry stored', async () => (await store.query(b.deviceId, 0, 10)).length === 2);
    await client.drop();
    await waitFor('offline by Last Will', async () => !(await side.devices.get(b.deviceId)).online);
  });

  it('settles each command on the replica that sent it, although ingest is shared between replicas', async () => {
    const replica = await startMqttSide({
      AGENTBOX_MQTT_URL: mosquitto.url,
      AGENTBOX_MQTT_USERNAME: mosquitto.username,
      AGENTBOX_MQTT_PASSWORD: mosquitto.password,
    });
    try {
      await waitFor('second replica connected', () => replica.broker.isReady());
      const client = await box(a, {
        onCommand: (command) => ({ status: 'succeeded', output: { echo: command.id } }),
      });
      await client.subscribe([`agentbox/v1/devices/${a.deviceId}/down/commands/+`]);
      const sender = side.app.get(CommandSender);
      // With only the shared subscription, about half of these results would reach the other replica.
      const results = await Promise.all(
        Array.from({ length: 8 }, () => sender.send(a.deviceId, 'ping', {}, 5_000)),
      );
      expect(results.map((r) => r.status)).toEqual(Array(8).fill('succeeded'));
      expect(results.every((r) => (r.output as { echo: string }).echo === r.commandId)).toBe(true);
      expect(sender.waiting).toBe(0);
    } finally {
      await replica.close();
    }
  });

  it('removes a box: disconnected and refused afterwards', async () => {
    const victim = await enrollBox(side, 'hw-mosq-gone');
    const client = await box(victim);
    const closed = new Promise<void>((resolve) => client.client.once('close', () => resolve()));
    await side.broker.removeDevice(victim.deviceId);
    await closed;
    expect(
      await connectReasonCode(side.url, {
        clientId: victim.deviceId,
        username: victim.deviceId,
        password: victim.secret,
      }),
    ).not.toBe(0);
  });

  it('rotates a secret on re-enrolment', async () => {
    const again = await side.devices.enroll('hw-mosq-a', undefined, 'rotated-secret-0123456789abcdef');
    await side.broker.upsertDeviceCredentials(again.deviceId, 'rotated-secret-0123456789abcdef');
    expect(
      await connectReasonCode(side.url, { clientId: a.deviceId, username: a.deviceId, password: a.secret }),
    ).not.toBe(0);
    expect(
      await connectReasonCode(side.url, {
        clientId: a.deviceId,
        username: a.deviceId,
        password: 'rotated-secret-0123456789abcdef',
      }),
    ).toBe(0);
  });

  // Last in this suite: it stops the broker.
  it('reports not ready while the broker is down, and a desired-state change does not hang on it', async () => {
    await mosquitto.stop();
    await waitFor('not ready', () => !side.broker.isReady());
    const started = Date.now();
    const response = await side.app
      .get(DesiredStateService)
      .setDesired(a.deviceId, { telemetry: { intervalSec: 60 } });
    expect(response.desired).toMatchObject({ version: 1 });
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

describe('infra/mosquitto/mosquitto.conf', () => {
  /**
   * Five boxes each publish `messages` one-sample telemetry messages at once through Mosquitto with the
   * shipped configuration, to a service started with `env`; resolves once every sample is stored, then
   * runs `check` while the service is still up.
   */
  async function burst(
    prefix: string,
    messages: number,
    env: Record<string, string>,
    check: (side: MqttSide) => Promise<void> = () => Promise.resolve(),
  ): Promise<void> {
    const broker = await startMosquitto({ configFile: INFRA_CONFIG });
    const side = await startMqttSide({
      AGENTBOX_MQTT_URL: broker.url,
      AGENTBOX_MQTT_USERNAME: broker.username,
      AGENTBOX_MQTT_PASSWORD: broker.password,
      AGENTBOX_MQTT_DYNSEC: 'true',
      ...env,
    });
    try {
      const boxes = await Promise.all(
        [0, 1, 2, 3, 4].map(async (i) => connectBox(side, await enrollBox(side, `${prefix}-${i}`))),
      );
      await Promise.all(
        boxes.flatMap((box) => Array.from({ length: messages }, () => box.telemetry(syntheticSamples(1)))),
      );
      const store = side.app.get(TelemetryStore);
      await waitFor(
        `all ${boxes.length * messages} samples stored`,
        async () => {
          const counts = await Promise.all(boxes.map((box) => store.query(box.deviceId, 0, 5_000)));
          return counts.every((samples) => samples.length === messages) || undefined;
        },
        60_000,
      );
      await check(side);
      await Promise.all(boxes.map((box) => box.drop()));
    } finally {
      await side.close();
      await broker.stop();
    }
  }

  it('keeps every message of a burst far beyond what ingest commits meanwhile', async () => {
    // Commits every 500 ms, PUBACKs to the broker held until then: the broker must queue the burst.
    await burst('hw-burst', 1_000, { AGENTBOX_INGEST_FLUSH_MS: '500' });
  });

  it('takes a burst past a full ingest buffer without dropping its session or storing twice', async () => {
    // A buffer of 50 samples, far below what the broker may send at once (the session's Receive Maximum):
    // what does not fit waits in the service and is offered again. Dropping the connection instead makes
    // the broker deliver again what was committed but not yet acknowledged: duplicates, and under a long
    // burst a loop that stores nothing new.
    await burst(
      'hw-full',
      400,
      { AGENTBOX_INGEST_MAX_BUFFERED_SAMPLES: '50', AGENTBOX_INGEST_BATCH_SAMPLES: '50' },
      async (side) => {
        expect(
          await metricValue(side, 'agentbox_ingest_dropped_samples_total', { reason: 'overloaded' }),
        ).toBeGreaterThan(0);
        expect(await metricValue(side, 'agentbox_ingest_duplicates_total')).toBe(0);
      },
    );
  });

  it('starts Mosquitto (adapted port and paths) and refuses anonymous clients', async () => {
    const broker = await startMosquitto({ configFile: INFRA_CONFIG });
    try {
      expect(await connectReasonCode(broker.url, { clientId: 'anon' })).not.toBe(0);
      const admin = await mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        clientId: 'admin-check',
        username: broker.username,
        password: broker.password,
        reconnectPeriod: 0,
      });
      await admin.endAsync();
      expect(broker.output()).not.toMatch(/Error/);
    } finally {
      await broker.stop();
    }
  });
});
