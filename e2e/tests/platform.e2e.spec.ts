import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, topics } from '@agentbox/schemas';
import { metricValue } from '../support/api.js';
import { Platform, readCredentials } from '../support/platform.js';
import { connectRaw, type PrivateMosquitto, sleep, waitFor } from '@agentbox/test-support';
import { REPLICA_ID, stacks } from '../support/stacks.js';
import { telemetryGaps } from '../support/telemetry-gaps.js';

const KEEPALIVE_SEC = 2;
const IMPOSTOR_SEQ = 2 ** 40;

describe.each(stacks)('platform on $name', (stack) => {
  let platform: Platform;
  let teardown: () => Promise<void> = () => Promise.resolve();
  let restartBroker: (downtimeMs: number) => Promise<void>;
  let externalBroker: PrivateMosquitto | undefined;
  let deviceId: string;

  beforeAll(async () => {
    const setup = await stack.setup();
    teardown = () => setup.teardown();
    externalBroker = setup.broker;
    platform = new Platform(setup.env);
    await platform.start();
    // The embedded broker lives in the fleet service: restarting the broker means restarting the service.
    restartBroker = setup.restartBroker ?? ((downtimeMs) => platform.restartFleet('SIGTERM', downtimeMs));
  });

  afterAll(async () => {
    await platform?.stop();
    await teardown();
  });

  it('enrolls a box that comes online with its birth info and real telemetry', async () => {
    const token = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    platform.startAgent('box-a', token);
    const device = await platform.waitForDevice(
      (d) => d.online && !!d.agentVersion,
      'box-a online with birth info',
    );
    deviceId = device.id;
    const credentialsFile = join(platform.stateDir('box-a'), 'credentials.json');
    expect(existsSync(credentialsFile)).toBe(true);
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    expect(readCredentials(platform.stateDir('box-a')).deviceId).toBe(deviceId);

    const samples = await waitFor('two telemetry samples', async () => {
      const stored = await platform.api.telemetry(deviceId);
      return stored.length >= 2 ? stored : undefined;
    });
    const latest = samples.at(-1)!;
    expect(latest.values['cpu.usage_pct']).toBeGreaterThanOrEqual(0);
    expect(latest.values['mem.total_bytes']).toBeGreaterThan(0);
    expect(latest.values['load.1m']).toBeGreaterThanOrEqual(0);
    expect(latest.values['disk.total_bytes']).toBeGreaterThan(0);
  });

  it('marks a killed box offline through its Last Will within 1.5x the keep-alive, then takes it back as the same device', async () => {
    const agent = platform.agent('box-a');
    const killedAt = Date.now();
    await agent.kill('SIGKILL');
    await waitFor('box-a offline', async () => !(await platform.api.device(deviceId)).online, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    const elapsed = Date.now() - killedAt;
    // The broker declares the will after 1.5x the keep-alive (MQTT-3.1.2-22/24); allow the ingest and poll delay.
    expect(elapsed).toBeLessThanOrEqual(KEEPALIVE_SEC * 1.5 * 1000 + 2_000);

    platform.startAgent('box-a');
    await platform.waitForDevice((d) => d.id === deviceId && d.online, 'box-a back online');
    expect(await platform.api.devices()).toHaveLength(1);
  });

  it('loses no telemetry sample across a broker restart', async () => {
    await sleep(3_000);
    const restartStartedAt = Date.now();
    await restartBroker(4_000);
    const backAt = Date.now();
    // The box reconnects with backoff and replays its spool in order: once a sample taken after the
    // restart is stored, everything before it has been delivered too.
    await waitFor(
      'telemetry flowing again after the restart',
      async () => (await platform.api.telemetry(deviceId)).some((s) => s.ts > backAt + 1_000),
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    const samples = await platform.api.telemetry(deviceId);
    const aroundRestart = samples.filter((s) => s.ts >= restartStartedAt - 3_000 && s.ts <= backAt + 1_000);
    if (process.env.AGENTBOX_E2E_DEBUG)
      console.log(
        restartStartedAt,
        backAt,
        samples.map((s) => [s.seq, s.ts]),
      );
    expect(aroundRestart.length).toBeGreaterThan(6);
    // One sample a second, spooled while the broker is down: a single lost sample would leave a gap
    // of two intervals, so every gap must stay under 1.5 intervals; and every sample once. The spool
    // drains in coalesced messages (docs/protocol.md), whose samples share the message's sequence
    // number: in time order, sequence numbers never go back and times strictly advance.
    expect(telemetryGaps(aroundRestart)).toEqual([]);
    for (let i = 1; i < aroundRestart.length; i++) {
      expect(aroundRestart[i]!.seq).toBeGreaterThanOrEqual(aroundRestart[i - 1]!.seq);
      expect(aroundRestart[i]!.ts).toBeGreaterThan(aroundRestart[i - 1]!.ts);
    }
    const keys = samples.map((s) => `${s.seq}@${s.ts}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  // Only an external broker can be up while no replica listens; the embedded one lives in the service.
  it.skipIf(stack.embedded)(
    'keeps telemetry on the box while no fleet replica is subscribed, then delivers it',
    async () => {
      if (!externalBroker) throw new Error('the external broker is missing');
      // Stop the only replica and end its persistent session: the broker now has nobody to give box-a's
      // telemetry to, and says so with PUBACK 0x10 (No matching subscribers); the box must keep it.
      await platform.fleet.kill('SIGTERM');
      const sessionEnder = await connectRaw(externalBroker.url, {
        clientId: `fleet:service:${REPLICA_ID}`,
        username: externalBroker.username,
        password: externalBroker.password,
        clean: true,
        properties: { sessionExpiryInterval: 0 },
      });
      expect(sessionEnder.code).toBe(0);
      await sessionEnder.client.endAsync();
      const unheardFrom = Date.now();
      await sleep(4_000);
      await platform.start({ httpPort: platform.fleet.httpPort, mqttPort: platform.fleet.mqttPort });
      await waitFor(
        'telemetry taken while nobody listened',
        async () => (await platform.api.telemetry(deviceId)).some((s) => s.ts > Date.now() - 500),
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const unheard = (await platform.api.telemetry(deviceId)).filter((s) => s.ts >= unheardFrom);
      expect(unheard.length).toBeGreaterThan(3);
      expect(unheard[0]!.ts - unheardFrom).toBeLessThan(1_500);
      expect(telemetryGaps(unheard)).toEqual([]);
    },
  );

  it('refuses bad MQTT input with a reason code, counts it, and keeps serving the other box', async () => {
    const token = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    platform.startAgent('box-b', token);
    const boxB = await platform.waitForDevice((d) => d.id !== deviceId && d.online, 'box-b online');
    const a = readCredentials(platform.stateDir('box-a'));
    const b = readCredentials(platform.stateDir('box-b'));
    const url = b.mqtt.url;

    const wrongPassword = await connectRaw(url, {
      clientId: b.deviceId,
      username: b.deviceId,
      password: 'x'.repeat(32),
    });
    expect([134, 135]).toContain(wrongPassword.code);
    const mismatchedClientId = await connectRaw(url, {
      clientId: `${b.deviceId}-other`,
      username: b.deviceId,
      password: b.mqtt.password,
    });
    expect([133, 135]).toContain(mismatchedClientId.code);
    const wildcardId = await connectRaw(url, {
      clientId: 'box+1',
      username: 'box+1',
      password: 'x'.repeat(32),
    });
    expect([133, 134, 135]).toContain(wildcardId.code);
    for (const rejected of [wrongPassword, mismatchedClientId, wildcardId]) rejected.client.end(true);

    // Box-b's own credentials in a raw client (the real box-b agent is stopped meanwhile, so the
    // two do not take each other's session over).
    await platform.agent('box-b').kill('SIGTERM');
    const impostor = await connectRaw(url, {
      clientId: b.deviceId,
      username: b.deviceId,
      password: b.mqtt.password,
    });
    expect(impostor.code).toBe(0);
    const client = impostor.client;

    // SUBACK with reason 0x87 (Not authorized) for another box's down/, every box's down/, and $SYS.
    for (const filter of [topics.deviceDownFilter(a.deviceId), 'agentbox/v1/devices/+/down/#', '$SYS/#']) {
      await expect(client.subscribeAsync(filter, { qos: 1 })).rejects.toThrow(/not authorized/i);
    }

    const telemetry = (seq: number) =>
      JSON.stringify({
        v: SCHEMA_VERSION,
        seq,
        ts: Date.now(),
        samples: [{ ts: Date.now(), values: { 'cpu.usage_pct': 1 } }],
      });
    const settle = (publish: Promise<unknown>) =>
      Promise.race([publish.catch(() => undefined), sleep(2_000)]);
    const ensureConnected = async () => {
      if (!client.connected) client.reconnect();
      await waitFor('raw client connected', () => client.connected);
    };

    const before = stack.embedded ? await platform.api.metrics() : '';
    // Publishing into another box's subtree is refused (MQTT 5: PUBACK 0x87, or the connection is closed).
    // A sequence number far above box-a's own, so a stored copy could not hide behind a duplicate.
    await settle(client.publishAsync(topics.telemetry(a.deviceId), telemetry(IMPOSTOR_SEQ), { qos: 1 }));
    await ensureConnected();
    await settle(client.publishAsync(topics.telemetry(b.deviceId), '{not json', { qos: 1 }));
    await ensureConnected();
    await settle(
      client.publishAsync(topics.telemetry(b.deviceId), JSON.stringify({ v: SCHEMA_VERSION, seq: 'x' }), {
        qos: 1,
      }),
    );
    await ensureConnected();
    await settle(client.publishAsync(`${topics.telemetry(b.deviceId)}/extra`, telemetry(2), { qos: 1 }));
    await ensureConnected();
    await settle(client.publishAsync(topics.telemetry(b.deviceId), 'x'.repeat(300 * 1024), { qos: 1 }));
    client.end(true);
    platform.startAgent('box-b');

    if (stack.embedded) {
      await waitFor('rejections counted', async () => {
        const after = await platform.api.metrics();
        const grew = (reason: string) =>
          metricValue(after, 'agentbox_ingest_rejections_total', { reason }) >
          metricValue(before, 'agentbox_ingest_rejections_total', { reason });
        return grew('malformed_json') && grew('invalid_schema');
      });
      const after = await platform.api.metrics();
      expect(metricValue(after, 'agentbox_mqtt_rejections_total')).toBeGreaterThan(0);
    }

    // Box-a was never disturbed, and box-b comes back by itself.
    const countBefore = (await platform.api.telemetry(deviceId)).length;
    await waitFor(
      'box-a still sending telemetry',
      async () => (await platform.api.telemetry(deviceId)).length > countBefore + 1,
    );
    await platform.waitForDevice((d) => d.id === boxB.id && d.online, 'box-b back online');
    // Nothing from the impostor's refused publish into box-a's topic was stored (seq 1 is far below box-a's own).
    expect((await platform.api.telemetry(deviceId)).some((s) => s.seq === IMPOSTOR_SEQ)).toBe(false);
  });

  it('refuses bad HTTP input with stable codes', async () => {
    const provision = (claimToken: string) =>
      platform.api.request(
        'POST',
        '/api/v1/provision',
        { claimToken, hardwareId: 'hw-e2e-000001' },
        { auth: false },
      );

    const unknown = await provision('this-token-does-not-exist-0000');
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('CLAIM_TOKEN_INVALID');

    const single = await platform.api.createClaimToken({ maxUses: 1 });
    expect((await provision(single)).status).toBeLessThan(300);
    const exhausted = await platform.api.request(
      'POST',
      '/api/v1/provision',
      { claimToken: single, hardwareId: 'hw-e2e-000002' },
      { auth: false },
    );
    expect(exhausted.status).toBe(401);
    expect(exhausted.body.code).toBe('CLAIM_TOKEN_EXHAUSTED');

    const notFound = await platform.api.request('GET', '/api/v1/devices/box-doesnotexist');
    expect(notFound.status).toBe(404);
    expect(notFound.body.code).toBe('DEVICE_NOT_FOUND');

    const wrongPassword = await platform.api.request(
      'POST',
      '/api/v1/auth/login',
      { username: 'admin', password: 'wrong-password' },
      { auth: false },
    );
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.body.code).toBe('INVALID_CREDENTIALS');

    const malformed = await platform.api.request('POST', '/api/v1/claim-tokens', undefined, {
      rawBody: '{oops',
    });
    expect(malformed.status).toBe(400);

    const anonymous = await platform.api.request('GET', '/api/v1/devices', undefined, { auth: false });
    expect(anonymous.status).toBe(401);

    const metrics = await platform.api.metrics();
    expect(
      metricValue(metrics, 'agentbox_http_rejections_total', { code: 'CLAIM_TOKEN_INVALID' }),
    ).toBeGreaterThan(0);
    expect(
      metricValue(metrics, 'agentbox_http_rejections_total', { code: 'DEVICE_NOT_FOUND' }),
    ).toBeGreaterThan(0);
    // Still serving.
    expect((await fetch(`${platform.fleet.url}/readyz`)).status).toBe(200);
  });
});
