import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisionResponseSchema, type ProvisionResponse } from '@agentbox/schemas';
import {
  connectRaw,
  dropSchema,
  randomSchemaName,
  sleep,
  startMosquitto,
  waitFor,
  type PrivateMosquitto,
} from '@agentbox/test-support';
import { metricValue } from '../support/api.js';
import { Platform } from '../support/platform.js';
import { productionEnv } from '../support/stacks.js';

const run = promisify(execFile);
/** Short enough for the test, long enough that the deleted client is seen refused before a pass runs. */
const RECONCILE_SEC = 5;

/** Whether the box gets in with its id and secret (MQTT 5 CONNACK 0). */
async function connects(broker: PrivateMosquitto, box: ProvisionResponse): Promise<boolean> {
  const { client, code } = await connectRaw(broker.url, {
    clientId: box.deviceId,
    username: box.mqtt.username,
    password: box.mqtt.password,
  });
  await client.endAsync(true).catch(() => undefined);
  return code === 0;
}

describe('Mosquitto (dynamic security) + PostgreSQL: a box the broker lost is re-created', () => {
  let broker: PrivateMosquitto;
  let schema: string;
  let platform: Platform;

  beforeAll(async () => {
    broker = await startMosquitto();
    schema = randomSchemaName('agentbox_e2e');
    platform = new Platform({
      ...productionEnv(broker, schema),
      AGENTBOX_MQTT_DYNSEC_RECONCILE_SEC: String(RECONCILE_SEC),
    });
    await platform.start();
  });

  afterAll(async () => {
    await platform?.stop();
    await broker?.stop();
    if (schema) await dropSchema(schema);
  });

  it('re-creates a deleted client and role with the box secret and counts it', async () => {
    const claimToken = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    const provisioned = await platform.api.request('POST', '/api/v1/provision', {
      claimToken,
      hardwareId: 'hw-reconcile-a',
      name: 'reconcile-a',
    });
    expect(provisioned.status).toBe(200);
    const box = ProvisionResponseSchema.parse(provisioned.body);
    expect(await connects(broker, box)).toBe(true);

    // Behind the service's back, as an operator with the admin account would.
    const admin = [
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.port),
      '-u',
      broker.username,
      '-P',
      broker.password,
    ];
    await run('mosquitto_ctrl', [...admin, 'dynsec', 'deleteClient', box.deviceId]);
    await run('mosquitto_ctrl', [...admin, 'dynsec', 'deleteRole', `agentbox-device-${box.deviceId}`]);
    expect(await connects(broker, box)).toBe(false);

    await waitFor('the box connects again with its original secret', () => connects(broker, box), {
      timeoutMs: (RECONCILE_SEC + 10) * 1_000,
      intervalMs: 500,
    });
    // One more pass finds the broker complete: a box it has is never counted again.
    await sleep((RECONCILE_SEC + 1) * 1_000);
    const metrics = await platform.api.metrics();
    expect(metricValue(metrics, 'agentbox_mqtt_dynsec_clients_recreated_total')).toBe(1);
    expect(metricValue(metrics, 'agentbox_mqtt_dynsec_clients_unrecoverable_total')).toBe(0);
  });
});
