import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SCHEMA_VERSION,
  decodeUpMessage,
  encodeMessage,
  topics,
  type DecodedUpMessage,
  type UpdateOffer,
} from '@agentbox/schemas';
import { connectReasonCode, subscribeReasonCodes } from './mqtt-probes.js';
import { provisionBox, provisionSimulatedBox } from './provisioning.js';
import { SimulatedBox, syntheticSamples } from './simulated-box.js';
import { sleep, waitFor } from './wait.js';

const PASSWORD = 'box-secret-0123456789';

interface Heard {
  topic: string;
  retain: boolean;
  decoded: DecodedUpMessage;
  correlationData?: Buffer;
}

/** A bare broker that accepts any box whose password is PASSWORD, and a cloud client listening to every up/. */
let broker: Aedes;
let server: Server;
let url: string;
let cloud: MqttClient;
let heard: Heard[];
const connects: Array<{ clientId: string; username: string | undefined }> = [];
const boxes: SimulatedBox[] = [];

beforeEach(async () => {
  connects.length = 0;
  heard = [];
  broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      connects.push({ clientId: client.id, username });
      done(null, username === 'cloud' || password?.toString() === PASSWORD);
    },
  });
  server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cloud = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'cloud', username: 'cloud' });
  cloud.on('message', (topic, payload, packet) => {
    if (!topic.includes('/up/')) return;
    const decoded = decodeUpMessage(topic, payload);
    if (!decoded.ok) throw new Error(`${topic}: ${decoded.reason} ${decoded.detail}`);
    const correlationData = packet.properties?.correlationData;
    heard.push({
      topic,
      retain: packet.retain,
      decoded: decoded.value,
      ...(correlationData ? { correlationData } : {}),
    });
  });
  await cloud.subscribeAsync(topics.allUpFilter(), { qos: 1 });
});

afterEach(async () => {
  for (const box of boxes.splice(0)) await box.close();
  await cloud.endAsync(true);
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function connect(deviceId: string, options: Partial<Parameters<typeof SimulatedBox.connect>[0]> = {}) {
  const box = await SimulatedBox.connect({ url, deviceId, password: PASSWORD, ...options });
  boxes.push(box);
  return box;
}

const heardFrom = (deviceId: string) => heard.filter((entry) => entry.topic.includes(`/${deviceId}/`));

function offer(rolloutId: string): UpdateOffer {
  const now = Date.now();
  return {
    rolloutId,
    release: {
      signed: {
        type: 'release',
        version: '2.0.0',
        channel: 'stable',
        createdAt: new Date(now).toISOString(),
        expires: new Date(now + 86_400_000).toISOString(),
        artifact: { name: 'agentbox-device-agent-2.0.0.tar.gz', size: 4_096, sha256: 'a'.repeat(64) },
        compatibility: { arch: ['x64'] },
        notes: '',
        rollbackTarget: false,
      },
      signatures: [{ keyid: 'b'.repeat(64), sig: 'c2lnbmF0dXJl' }],
    },
    roots: [],
    url: 'http://127.0.0.1:1/api/v1/releases/r/artifact',
    downloadToken: 'download-token-0123456789',
    policy: { force: false, maxWaitSec: 600, healthDeadlineSec: 120 },
  };
}

async function publishDesired(deviceId: string, version: number, spec: Record<string, unknown> = {}) {
  await cloud.publishAsync(
    topics.desired(deviceId),
    encodeMessage({ v: SCHEMA_VERSION, version, ts: Date.now(), spec }),
    { qos: 1, retain: true },
  );
}

describe('SimulatedBox', () => {
  it('connects as the box, goes online, sends its birth and numbers every message in the envelope', async () => {
    const sut = await connect('box-1');
    expect(connects).toContainEqual({ clientId: 'box-1', username: 'box-1' });
    await sut.goOnline({ birth: { hardware: { arch: 'arm64' }, telemetryIntervalSec: 5 } });
    await sut.telemetry(syntheticSamples(3, 1_700_000_000_000));
    await sut.telemetry(syntheticSamples(1), { seq: 40 });
    await sut.publish('events', { events: [{ type: 'x', level: 'info', message: 'hi' }] });
    await waitFor('five messages', () => heardFrom('box-1').length === 5, { intervalMs: 10 });

    const [status, birth, telemetry, pinned, events] = heardFrom('box-1').map((entry) => entry.decoded);
    expect(status).toMatchObject({ channel: 'status', message: { v: 1, seq: 2, state: 'online' } });
    expect(birth).toMatchObject({
      channel: 'birth',
      message: {
        seq: 3,
        agentVersion: '1.0.0',
        telemetryIntervalSec: 5,
        hardware: { hostname: 'box-1', platform: 'linux', arch: 'arm64', cpuCores: 4 },
      },
    });
    expect(telemetry).toMatchObject({ channel: 'telemetry', message: { seq: 4 } });
    expect(telemetry?.channel === 'telemetry' && telemetry.message.samples).toEqual([
      { ts: 1_700_000_000_000, values: { 'cpu.usage_pct': 0, 'mem.used_pct': 50 } },
      { ts: 1_700_000_000_001, values: { 'cpu.usage_pct': 1, 'mem.used_pct': 50 } },
      { ts: 1_700_000_000_002, values: { 'cpu.usage_pct': 2, 'mem.used_pct': 50 } },
    ]);
    expect(pinned?.message.seq).toBe(40);
    // A number given by hand is never handed out again.
    expect(events?.message.seq).toBe(41);
    expect(sut.nextSeq()).toBe(42);
  });

  it('leaves its retained offline Last Will when the connection drops, and none when it closes', async () => {
    const dropped = await connect('box-drop');
    const closed = await connect('box-close', { firstSeq: 100 });
    await closed.close();
    await dropped.drop();
    await waitFor('the will', () => heardFrom('box-drop').length === 1, { intervalMs: 10 });
    expect(heardFrom('box-drop')[0]?.decoded).toMatchObject({
      channel: 'status',
      message: { seq: 1, state: 'offline' },
    });
    await sleep(200);
    expect(heardFrom('box-close')).toEqual([]);
    const retained = await SimulatedBox.connect({
      url,
      deviceId: 'box-drop',
      password: PASSWORD,
      lastWill: false,
    });
    boxes.push(retained);
    const statuses: string[] = [];
    retained.client.on('message', (_topic, payload, packet) => {
      if (packet.retain) statuses.push((JSON.parse(payload.toString()) as { state: string }).state);
    });
    await retained.client.subscribeAsync(topics.status('box-drop'), { qos: 1 });
    await waitFor('the retained will', () => statuses.length === 1, { intervalMs: 10 });
    expect(statuses).toEqual(['offline']);
  });

  it('takes the retained desired state on subscribing and reports the version it took', async () => {
    await publishDesired('box-desired', 3, { telemetry: { intervalSec: 30 } });
    const sut = await connect('box-desired', {
      onDesired: (document, box) => box.reportState({ interval: document.spec.telemetry?.intervalSec }),
    });
    await sut.goOnline();
    await waitFor('state reported', () =>
      heardFrom('box-desired').some((e) => e.decoded.channel === 'state'),
    );
    expect(sut.desired).toEqual([
      { v: 1, version: 3, ts: expect.any(Number), spec: { telemetry: { intervalSec: 30 } } },
    ]);
    const state = heardFrom('box-desired').find((entry) => entry.decoded.channel === 'state');
    expect(state?.decoded.message).toMatchObject({ desiredVersion: 3, current: { interval: 30 } });

    // An empty retained payload deletes the document: nothing to take.
    await cloud.publishAsync(topics.desired('box-desired'), Buffer.alloc(0), { qos: 1, retain: true });
    await publishDesired('box-desired', 4);
    await waitFor('version 4', () => sut.latestDesired()?.version === 4);
    expect(sut.desired.map((document) => document.version)).toEqual([3, 4]);
    expect(sut.errors).toEqual([]);
  });

  it('answers commands on the response topic with the correlation data, and stays silent when told', async () => {
    const sut = await connect('box-cmd');
    await sut.subscribe();
    const send = (id: string, name: string, responseTopic?: string) =>
      cloud.publishAsync(
        topics.command('box-cmd', id),
        encodeMessage({ v: 1, id, name, args: {}, issuedAt: Date.now(), expiresAt: Date.now() + 60_000 }),
        {
          qos: 1,
          properties: {
            correlationData: Buffer.from(`corr-${id}`),
            ...(responseTopic ? { responseTopic } : {}),
          },
        },
      );
    await send('cmd-1', 'ping', topics.result('box-cmd', 'cmd-1'));
    await send('cmd-2', 'reboot-now');
    await waitFor('two results', () => heardFrom('box-cmd').length === 2, { intervalMs: 10 });
    const results = heardFrom('box-cmd');
    expect(results.map((entry) => entry.topic)).toEqual([
      topics.result('box-cmd', 'cmd-1'),
      topics.result('box-cmd', 'cmd-2'),
    ]);
    expect(results.map((entry) => entry.correlationData?.toString())).toEqual(['corr-cmd-1', 'corr-cmd-2']);
    expect(results[0]?.decoded.message).toMatchObject({
      commandId: 'cmd-1',
      status: 'succeeded',
      output: { pong: true },
    });
    expect(results[1]?.decoded.message).toMatchObject({ commandId: 'cmd-2', status: 'rejected' });
    expect(sut.commands.map((received) => [received.command.id, received.responseTopic])).toEqual([
      ['cmd-1', topics.result('box-cmd', 'cmd-1')],
      ['cmd-2', undefined],
    ]);

    sut.onCommand = (command) => (command.name === 'ping' ? undefined : { status: 'failed', error: 'no' });
    await send('cmd-3', 'ping');
    await send('cmd-4', 'other');
    await waitFor('the failure', () => heardFrom('box-cmd').length === 3, { intervalMs: 10 });
    await sleep(100);
    expect(heardFrom('box-cmd').map((entry) => entry.decoded.message)).toHaveLength(3);
    expect(heardFrom('box-cmd')[2]?.decoded.message).toMatchObject({ commandId: 'cmd-4', status: 'failed' });
  });

  it('reports an offered update step by step as its behaviour says, and each offer once', async () => {
    const sut = await connect('box-ota');
    await sut.goOnline();
    const statuses = (rolloutId: string) =>
      heardFrom('box-ota').flatMap((entry) =>
        entry.decoded.channel === 'update' && entry.decoded.message.reports[0]?.rolloutId === rolloutId
          ? entry.decoded.message.reports
          : [],
      );
    const cases = [
      ['healthy', ['downloading', 'downloaded', 'installing', 'rebooting', 'healthy']],
      ['roll-back', ['downloading', 'downloaded', 'installing', 'rebooting', 'rolled-back']],
      ['download-only', ['downloading']],
    ] as const;
    let version = 0;
    for (const [behaviour, expected] of cases) {
      sut.updateBehaviour = behaviour;
      await publishDesired('box-ota', ++version, { update: offer(`${behaviour}~1`) });
      await waitFor(behaviour, () => statuses(`${behaviour}~1`).length === expected.length, {
        intervalMs: 10,
      });
      expect(statuses(`${behaviour}~1`).map((report) => report.status)).toEqual(expected);
    }
    expect(statuses('healthy~1').map((report) => report.runningVersion)).toEqual([
      '1.0.0',
      '1.0.0',
      '1.0.0',
      '1.0.0',
      '2.0.0',
    ]);
    expect(statuses('healthy~1')[0]).toMatchObject({
      version: '2.0.0',
      progress: { bytes: 0, total: 4_096 },
    });
    expect(statuses('roll-back~1').at(-1)).toMatchObject({
      reason: 'health-check-failed',
      runningVersion: '1.0.0',
    });

    sut.updateBehaviour = 'silent';
    await publishDesired('box-ota', ++version, { update: offer('silent~1') });
    await waitFor('the silent offer', () => sut.latestDesired()?.version === version);
    sut.updateBehaviour = 'healthy';
    // The same offer again (a republished document) is not taken a second time.
    await publishDesired('box-ota', ++version, { update: offer('silent~1') });
    await waitFor('both documents', () => sut.latestDesired()?.version === version);
    await sleep(200);
    expect(statuses('silent~1')).toEqual([]);
    expect([...sut.handledOffers]).toEqual(['healthy~1', 'roll-back~1', 'download-only~1', 'silent~1']);
    expect(sut.currentOffer()?.rolloutId).toBe('silent~1');
    expect(sut.offered()).toBe(true);
  });

  it('hands an offer and the document that carried it to an update handler of its own', async () => {
    const taken: Array<{ rolloutId: string; document: string }> = [];
    const sut = await connect('box-hook', {
      updates: async (update, box, document) => {
        taken.push({ rolloutId: update.rolloutId, document: document.toString() });
        await box.takeUpdate(update, 'download-only');
      },
    });
    await sut.goOnline();
    await publishDesired('box-hook', 1, { update: offer('hook~1') });
    await waitFor('the report', () =>
      heardFrom('box-hook').some((entry) => entry.decoded.channel === 'update'),
    );
    expect(taken.map((entry) => entry.rolloutId)).toEqual(['hook~1']);
    expect(JSON.parse(taken[0]!.document)).toMatchObject({
      version: 1,
      spec: { update: { rolloutId: 'hook~1' } },
    });
  });

  it('passes a failure in handling a message to onError', async () => {
    const failures: Error[] = [];
    const sut = await connect('box-fail', { onError: (error) => failures.push(error) });
    await sut.subscribe();
    await cloud.publishAsync(topics.desired('box-fail'), 'not json', { qos: 1 });
    await waitFor('the failure', () => failures.length === 1, { intervalMs: 10 });
    expect(sut.errors).toEqual(failures);
  });
});

describe('MQTT probes', () => {
  it('tells the CONNACK and SUBACK reason codes', async () => {
    expect(await connectReasonCode(url, { clientId: 'x', username: 'x', password: 'wrong' })).toBe(0x87);
    expect(await connectReasonCode(url, { clientId: 'x', username: 'x', password: PASSWORD })).toBe(0);
    const box = await connect('box-sub');
    expect(await subscribeReasonCodes(box.client, [topics.deviceDownFilter('box-sub')])).toEqual([1]);
  });
});

describe('provisioning', () => {
  let fleet: HttpServer;
  let fleetUrl: string;
  const requests: unknown[] = [];

  beforeEach(async () => {
    requests.length = 0;
    fleet = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const request = JSON.parse(body) as { claimToken: string };
        requests.push({ path: req.url, ...request });
        if (request.claimToken !== 'claim-token-0123456789') {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"CLAIM_TOKEN_INVALID"}');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({ deviceId: 'box-new', mqtt: { url, username: 'box-new', password: PASSWORD } }),
          );
      });
    });
    await new Promise<void>((resolve) => fleet.listen(0, '127.0.0.1', resolve));
    fleetUrl = `http://127.0.0.1:${(fleet.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => fleet.close(() => resolve()));
  });

  it('enrols with a claim token and connects with the credentials it got', async () => {
    const sut = await provisionSimulatedBox(fleetUrl, 'claim-token-0123456789', { name: 'Kitchen box' });
    boxes.push(sut);
    expect(sut.deviceId).toBe('box-new');
    expect(sut.connected).toBe(true);
    expect(connects).toContainEqual({ clientId: 'box-new', username: 'box-new' });
    expect(requests).toEqual([
      {
        path: '/api/v1/provision',
        claimToken: 'claim-token-0123456789',
        hardwareId: expect.stringMatching(/^sim-[0-9a-f]{12}$/),
        name: 'Kitchen box',
      },
    ]);
  });

  it('throws with the status and body when the fleet refuses', async () => {
    await expect(
      provisionBox(fleetUrl, { claimToken: 'claim-token-unknown-000', hardwareId: 'hw-000001' }),
    ).rejects.toThrow('provision: 401 {"code":"CLAIM_TOKEN_INVALID"}');
  });
});
