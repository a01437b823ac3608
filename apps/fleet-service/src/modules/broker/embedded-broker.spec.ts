import type { Aedes, Client } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRaw, connectReasonCode } from '@agentbox/test-support';
import { MetricsService } from '../metrics/metrics.service.js';
import { SERVICE_CLIENT_ID_PREFIX, SERVICE_USERNAME } from './broker.constants.js';
import { BrokerRejections } from './broker-rejections.js';
import { EmbeddedBroker } from './embedded-broker.js';
import { MqttAuthorizer } from './mqtt-authorizer.js';

const SERVICE_PASSWORD = 'service-secret';

/** A registry whose credential checks stay in flight until the test releases them. */
function heldRegistry() {
  const held: (() => void)[] = [];
  let holding = true;
  return {
    checked: () => held.length,
    release() {
      holding = false;
      for (const resolve of held.splice(0)) resolve();
    },
    registry: {
      verifyCredentials: (_deviceId: string, _secret: string) =>
        new Promise<boolean>((resolve) => {
          if (!holding) resolve(true);
          else held.push(() => resolve(true));
        }),
    },
  };
}

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function startBroker(maxPendingConnects: number) {
  const metrics = new MetricsService();
  const held = heldRegistry();
  const sut = new EmbeddedBroker(
    new MqttAuthorizer(held.registry, SERVICE_PASSWORD),
    new BrokerRejections(metrics),
    metrics.gauge({ name: 'connected_boxes_test', help: 'test' }),
    (message) => message.settle('stored'),
  );
  const port = await sut.start({
    host: '127.0.0.1',
    port: 0,
    portExplicit: true,
    maxPayloadBytes: 1024,
    maxPendingConnects,
  });
  stops.push(() => sut.stop());
  const busyRefusals = async () => {
    const metric = await metrics.registry.getSingleMetric('agentbox_mqtt_rejections_total')?.get();
    return metric?.values.find((value) => value.labels.reason === 'server_busy')?.value;
  };
  return { sut, held, url: `mqtt://127.0.0.1:${port}`, busyRefusals };
}

function box(id: string) {
  return { clientId: id, username: id, password: 'secret' };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('EmbeddedBroker: CONNECTs while authentications are in flight', () => {
  it('refuses CONNECTs past the cap at once as busy, lets the service in, and takes boxes again later', async () => {
    const { held, url, busyRefusals } = await startBroker(2);
    const clients: MqttClient[] = [];
    stops.push(async () => {
      await Promise.all(clients.map((client) => client.endAsync(true)));
    });
    const waiting = ['box-1', 'box-2'].map((id) =>
      connectRaw(url, box(id)).then(({ client, code }) => {
        clients.push(client);
        return code;
      }),
    );
    await until(() => held.checked() === 2);
    expect(await busyRefusals()).toBe(0);

    // MQTT 5.0 section 3.2.2.2: 0x89 Server busy; MQTT 3.1.1 has only 0x03 Server unavailable.
    expect(await connectReasonCode(url, box('box-3'))).toBe(0x89);
    expect(await connectReasonCode(url, { ...box('box-4'), protocolVersion: 4 })).toBe(0x03);
    expect(held.checked()).toBe(2);
    expect(await busyRefusals()).toBe(2);
    expect(
      await connectReasonCode(url, {
        clientId: `${SERVICE_CLIENT_ID_PREFIX}test`,
        username: SERVICE_USERNAME,
        password: SERVICE_PASSWORD,
      }),
    ).toBe(0);

    held.release();
    expect(await Promise.all(waiting)).toEqual([0, 0]);
    expect(await connectReasonCode(url, box('box-3'))).toBe(0);
    expect(await busyRefusals()).toBe(2);
  });

  it('does no work for a connection that closed before its check came up', async () => {
    const { sut, held, busyRefusals } = await startBroker(1);
    const aedes = (sut as unknown as { aedes: Aedes }).aedes;
    const gone = { id: 'box-1', closed: true, version: 5 } as unknown as Client;
    const outcome = await new Promise<[unknown, unknown]>((resolve) => {
      aedes.authenticate(gone, 'box-1', Buffer.from('secret'), (error, success) => resolve([error, success]));
    });
    expect(outcome).toEqual([null, false]);
    expect(held.checked()).toBe(0);
    expect(await busyRefusals()).toBe(0);
  });
});
