import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/* eslint-disable @typescript-eslint/no-unsafe-return -- response bodies are checked field by field */
import {
  DeviceUpdateDtoSchema,
  type LiveEvent,
  RolloutDetailDtoSchema,
  RolloutDtoSchema,
} from '@agentbox/schemas';
import { PinoLoggerService } from '@agentbox/logging';
import {
  dropSchema,
  freePort,
  postgresReachable,
  provisionSimulatedBox,
  randomSchemaName,
  TEST_POSTGRES_URL,
  waitFor,
  type SimulatedBox,
  updateReports,
} from '@agentbox/test-support';
import { createApp, type RunningApp } from '../src/app.js';
import { AppConfig } from '../src/config/app-config.js';
import { RolloutTicker } from '../src/modules/rollouts/rollout-ticker.js';
import { ADMIN_PASSWORD, drivers, recordLiveEvents, useFleetApp } from './support/fleet-app.js';
import { envelope, releaseManifest, rootMetadata, signingKey } from './support/ota-signing.js';

const pgReachable = await postgresReachable();

/** The release these tests roll out: x64 only (the arm64 build is made where it is needed). */
const manifest = (version: string, bundle: Buffer) =>
  releaseManifest(version, bundle, { compatibility: { arch: ['x64'] }, notes: '' });

async function appConfig(dataDir: string, rootFile: string, env: Record<string, string>): Promise<AppConfig> {
  return AppConfig.fromEnv({
    AGENTBOX_DATA_DIR: dataDir,
    AGENTBOX_HTTP_HOST: '127.0.0.1',
    // A known port: offers carry the bundle's URL on this service.
    AGENTBOX_HTTP_PORT: String(await freePort()),
    AGENTBOX_MQTT_HOST: '127.0.0.1',
    AGENTBOX_MQTT_PORT: '0',
    AGENTBOX_ADMIN_PASSWORD: ADMIN_PASSWORD,
    AGENTBOX_CONSOLE_DIR: join(dataDir, 'no-console-here'),
    AGENTBOX_OTA_ROOT_FILE: rootFile,
    ...env,
  });
}

describe.each(drivers)('rollouts with real MQTT boxes ($name)', (driver) => {
  const skip = driver.skip;
  let releaseId: string;
  const boxes: SimulatedBox[] = [];
  const live: LiveEvent[] = [];
  const rootKey = signingKey();
  const releaseKey = signingKey();

  const app = useFleetApp(driver, 'rollouts', {
    signIn: 'every role',
    env: async (dir) => {
      const rootFile = join(dir, 'root.json');
      writeFileSync(rootFile, JSON.stringify(envelope(rootMetadata(1, [rootKey], [releaseKey]), [rootKey])));
      // A known port: offers carry the bundle's URL on this service.
      return {
        AGENTBOX_OTA_ROOT_FILE: rootFile,
        AGENTBOX_HTTP_PORT: String(await freePort()),
        AGENTBOX_ROLLOUT_TICK_MS: '200',
      };
    },
  });
  const { call, tokens } = app;

  async function rollout(id: string) {
    const response = await call('GET', `/api/v1/rollouts/${id}`, { token: tokens.viewer });
    expect(response.status).toBe(200);
    return RolloutDetailDtoSchema.parse(response.body);
  }

  // A test that fails half-way leaves its rollout active, and its boxes could join no other: end it here
  // so the failure does not cascade into the next test.
  afterEach(async () => {
    if (skip) return;
    const listed = await call('GET', '/api/v1/rollouts', { token: tokens.viewer });
    for (const item of RolloutDtoSchema.array().parse(listed.body)) {
      if (item.status === 'draft' || item.status === 'running' || item.status === 'paused') {
        await call('POST', `/api/v1/rollouts/${item.id}/cancel`, { token: tokens.operator });
      }
    }
  });

  async function create(body: Record<string, unknown>): Promise<string> {
    const response = await call('POST', '/api/v1/rollouts', {
      token: tokens.operator,
      body: { releaseId, ...body },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id;
  }

  /** A release some rollout uses cannot be deleted. */
  async function expectDeleteRefused(id: string): Promise<void> {
    const response = await call('DELETE', `/api/v1/releases/${id}`, { token: tokens.admin });
    expect({ status: response.status, code: response.body?.code }).toEqual({
      status: 409,
      code: 'RELEASE_IN_USE',
    });
  }

  beforeAll(async () => {
    if (skip) return;
    recordLiveEvents(app, live);

    const bundle = randomBytes(10_000);
    const release = await call('POST', '/api/v1/releases', {
      token: tokens.admin,
      body: envelope(manifest('2.0.0', bundle), [releaseKey]),
    });
    expect(release.status, JSON.stringify(release.body)).toBe(201);
    releaseId = release.body.id;
    expect(
      (await call('PUT', `/api/v1/releases/${releaseId}/artifact`, { token: tokens.admin, raw: bundle }))
        .status,
    ).toBe(200);

    const claim = await call('POST', '/api/v1/claim-tokens', { token: tokens.admin, body: { maxUses: 4 } });
    for (let i = 0; i < 4; i += 1) {
      // Throws unless provisioning answers 200 with the box's identity.
      const box = await provisionSimulatedBox(app.base, claim.body.token, {
        hardwareId: `rollouts-e2e-hw-${i}`,
      });
      await box.goOnline();
      boxes.push(box);
    }
    for (const box of boxes) {
      await waitFor(
        'box online',
        async () =>
          (await call('GET', `/api/v1/devices/${box.deviceId}`, { token: tokens.admin })).body.online,
      );
    }
  }, 60_000);

  afterAll(async () => {
    if (skip) return;
    for (const box of boxes) await box.close();
  });

  it.skipIf(skip)('only operators create and steer rollouts; viewers read', async () => {
    const body = { releaseId, targets: { all: true }, phases: [{ name: 'all', percent: 100 }] };
    expect((await call('POST', '/api/v1/rollouts', { token: tokens.viewer, body })).status).toBe(403);
    expect(
      (await call('POST', '/api/v1/rollouts', { token: tokens.operator, body: { ...body, phases: [] } }))
        .status,
    ).toBe(400);
    expect(
      (
        await call('POST', '/api/v1/rollouts', {
          token: tokens.operator,
          body: { ...body, targets: { deviceIds: ['box-nope'] } },
        })
      ).status,
    ).toBe(400);
    expect((await call('GET', '/api/v1/rollouts', { token: tokens.viewer })).status).toBe(200);
    expect(
      (await call('GET', `/api/v1/rollouts/${crypto.randomUUID()}`, { token: tokens.viewer })).status,
    ).toBe(404);
  });

  it.skipIf(skip)(
    'a staged rollout offers one phase at a time and completes as boxes end healthy',
    async () => {
      for (const box of boxes) box.updateBehaviour = 'healthy';
      const id = await create({
        targets: { deviceIds: boxes.map((box) => box.deviceId) },
        phases: [
          { name: 'canary', count: 1 },
          { name: 'half', percent: 50 },
          { name: 'all', percent: 100 },
        ],
        successThresholdPct: 100,
        autoAdvance: false,
        abort: { failurePct: 50, minFinished: 2 },
        perBoxTimeoutSec: 60,
        maintenanceWindow: { start: '02:00', end: '04:00' },
      });
      const created = await rollout(id);
      expect(created.status).toBe('draft');
      expect(created.phases.map((phase) => [phase.start, phase.end])).toEqual([
        [0, 1],
        [1, 2],
        [2, 4],
      ]);
      expect(boxes.some((box) => box.offered())).toBe(false);
      // A box in a rollout that has not ended cannot join another.
      expect(
        (
          await call('POST', '/api/v1/rollouts', {
            token: tokens.operator,
            body: {
              releaseId,
              targets: { deviceIds: [boxes[0]!.deviceId] },
              phases: [{ name: 'a', count: 1 }],
            },
          })
        ).status,
      ).toBe(409);
      expect((await call('POST', `/api/v1/rollouts/${id}/start`, { token: tokens.viewer })).status).toBe(403);
      expect((await call('POST', `/api/v1/rollouts/${id}/start`, { token: tokens.operator })).status).toBe(
        200,
      );
      expect((await call('POST', `/api/v1/rollouts/${id}/start`, { token: tokens.operator })).status).toBe(
        409,
      );

      await waitFor(
        'canary healthy, phase waits for approval',
        async () => (await rollout(id)).pauseReason === 'awaiting-approval',
      );
      const afterCanary = await rollout(id);
      expect(afterCanary.phases[0]!.counts).toEqual({ healthy: 1 });
      expect(boxes.slice(1).some((box) => box.offered())).toBe(false);
      const offer = boxes[0]!.desired.find((document) => document.spec.update)!.spec.update!;
      expect(offer.rolloutId).toBe(id);
      expect(offer.release.signed.version).toBe('2.0.0');
      expect(offer.policy.maintenanceWindow).toEqual({ start: '02:00', end: '04:00' });
      expect(offer.url).toContain(`/api/v1/releases/${releaseId}/artifact`);
      // The offer's URL and token download the bundle.
      const download = await fetch(offer.url, {
        headers: { authorization: `Bearer ${offer.downloadToken}` },
      });
      expect(download.status).toBe(200);
      expect((await download.arrayBuffer()).byteLength).toBe(10_000);
      // Done: the offer is withdrawn from the box's desired state.
      await waitFor('canary offer withdrawn', () => boxes[0]!.currentOffer() === undefined);

      expect((await call('POST', `/api/v1/rollouts/${id}/resume`, { token: tokens.operator })).status).toBe(
        200,
      );
      await waitFor('second phase done', async () => (await rollout(id)).phases[1]!.counts.healthy === 1);
      expect(boxes[1]!.offered()).toBe(true);
      expect(boxes.slice(2).some((box) => box.offered())).toBe(false);
      await waitFor('paused again', async () => (await rollout(id)).status === 'paused');
      expect((await call('POST', `/api/v1/rollouts/${id}/resume`, { token: tokens.operator })).status).toBe(
        200,
      );
      await waitFor('completed', async () => (await rollout(id)).status === 'completed');
      const done = await rollout(id);
      expect(done.counts).toEqual({ healthy: 4 });
      expect(done.boxes.every((box) => box.attempt === 1)).toBe(true);
      expect(live).toContainEqual({ type: 'rollout', rolloutId: id });

      const history = await call('GET', `/api/v1/devices/${boxes[0]!.deviceId}/updates`, {
        token: tokens.viewer,
      });
      expect(history.status).toBe(200);
      const entries = history.body.map((entry: unknown) => DeviceUpdateDtoSchema.parse(entry));
      expect(entries.map((entry: { status: string }) => entry.status)).toEqual([
        'healthy',
        'rebooting',
        'installing',
        'downloaded',
        'downloading',
      ]);
      const audit = await call('GET', `/api/v1/audit?targetType=rollout&targetId=${id}`, {
        token: tokens.admin,
      });
      const actions = audit.body.map((entry: { action: string }) => entry.action);
      expect(actions).toEqual(
        expect.arrayContaining([
          'rollout.created',
          'rollout.started',
          'rollout.resumed',
          'rollout.completed',
        ]),
      );
    },
  );

  it.skipIf(skip)('aborts at the failure threshold; untouched boxes never get an offer', async () => {
    for (const box of boxes) {
      box.updateBehaviour = 'roll-back';
      box.desired.length = 0;
    }
    const id = await create({
      targets: { deviceIds: boxes.map((box) => box.deviceId) },
      phases: [
        { name: 'first', count: 2 },
        { name: 'rest', percent: 100 },
      ],
      successThresholdPct: 50,
      abort: { failurePct: 50, minFinished: 2 },
    });
    expect((await call('POST', `/api/v1/rollouts/${id}/start`, { token: tokens.operator })).status).toBe(200);
    await waitFor('aborted', async () => (await rollout(id)).status === 'aborted');
    const aborted = await rollout(id);
    expect(aborted.boxes.map((box) => box.status)).toEqual([
      'rolled-back',
      'rolled-back',
      'pending',
      'pending',
    ]);
    expect(aborted.boxes[0]!.reason).toBe('health-check-failed');
    // A few ticks later, still nothing offered to the rest.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(boxes.slice(2).some((box) => box.offered())).toBe(false);
    expect((await call('POST', `/api/v1/rollouts/${id}/resume`, { token: tokens.operator })).status).toBe(
      409,
    );
    const audit = await call('GET', `/api/v1/audit?targetType=rollout&targetId=${id}`, {
      token: tokens.admin,
    });
    expect(audit.body.find((entry: { action: string }) => entry.action === 'rollout.aborted')).toMatchObject({
      actor: 'system',
    });
  });

  it.skipIf(skip)(
    'pause holds the next phase, resume goes on, cancel withdraws offers; silent boxes time out',
    async () => {
      for (const box of boxes) box.updateBehaviour = 'download-only';
      for (const box of boxes) box.desired.length = 0;
      const id = await create({
        targets: { deviceIds: boxes.map((box) => box.deviceId) },
        phases: [
          { name: 'one', count: 1 },
          { name: 'rest', percent: 100 },
        ],
        abort: { failurePct: 100, minFinished: 10 },
        perBoxTimeoutSec: 600,
      });
      expect((await call('POST', `/api/v1/rollouts/${id}/start`, { token: tokens.operator })).status).toBe(
        200,
      );
      expect((await call('POST', `/api/v1/rollouts/${id}/pause`, { token: tokens.operator })).status).toBe(
        200,
      );
      // The first box finishes only once the pause is in: had it ended healthy before the pause landed,
      // the engine would rightly have moved on to the next phase already.
      const first = await waitFor('first box offered', () => boxes[0]!.currentOffer());
      await waitFor(
        'first box downloading',
        async () => (await rollout(id)).boxes[0]!.status === 'downloading',
      );
      const [, ...afterDownloading] = updateReports(first, 'healthy', boxes[0]!.agentVersion);
      for (const report of afterDownloading) await boxes[0]!.reportUpdate(report);
      await waitFor('first box healthy', async () => (await rollout(id)).boxes[0]!.status === 'healthy');
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await rollout(id)).phase).toBe(0);
      expect(boxes.slice(1).some((box) => box.offered())).toBe(false);
      expect((await call('POST', `/api/v1/rollouts/${id}/resume`, { token: tokens.operator })).status).toBe(
        200,
      );
      await waitFor('rest downloading', async () =>
        (await rollout(id)).boxes.slice(1).every((box) => box.status === 'downloading'),
      );
      expect(boxes.slice(1).every((box) => box.currentOffer() !== undefined)).toBe(true);
      const canceled = await call('POST', `/api/v1/rollouts/${id}/cancel`, { token: tokens.operator });
      expect(canceled.status).toBe(200);
      expect(canceled.body.status).toBe('canceled');
      await waitFor('offers withdrawn', () =>
        boxes.slice(1).every((box) => box.currentOffer() === undefined),
      );
      const after = await rollout(id);
      expect(after.boxes.map((box) => box.status)).toEqual(['healthy', 'canceled', 'canceled', 'canceled']);

      // A box that never answers fails with reason timeout, and retry-failed offers it again.
      for (const box of boxes) {
        box.updateBehaviour = 'silent';
        box.desired.length = 0;
      }
      const timed = await create({
        targets: { deviceIds: [boxes[3]!.deviceId] },
        phases: [{ name: 'all', percent: 100 }],
        perBoxTimeoutSec: 1,
        abort: { failurePct: 100, minFinished: 5 },
        successThresholdPct: 0,
      });
      expect((await call('POST', `/api/v1/rollouts/${timed}/start`, { token: tokens.operator })).status).toBe(
        200,
      );
      await waitFor('timed out', async () => (await rollout(timed)).boxes[0]!.reason === 'timeout');
      expect((await rollout(timed)).status).toBe('completed');
      await waitFor('offer withdrawn after timeout', () => boxes[3]!.currentOffer() === undefined);
      boxes[3]!.updateBehaviour = 'healthy';
      expect(
        (await call('POST', `/api/v1/rollouts/${timed}/retry-failed`, { token: tokens.operator })).status,
      ).toBe(200);
      await waitFor('retried healthy', async () => (await rollout(timed)).boxes[0]!.status === 'healthy');
      const retried = await rollout(timed);
      expect(retried.boxes[0]!.attempt).toBe(2);
      expect(retried.status).toBe('completed');
      expect(boxes[3]!.handledOffers.has(`${timed}~2`)).toBe(true);
    },
  );

  it.skipIf(skip)('offers each box the build of the rolled-out version for its architecture', async () => {
    const armBundle = randomBytes(12_000);
    const armRelease = await call('POST', '/api/v1/releases', {
      token: tokens.admin,
      body: envelope({ ...manifest('2.0.0', armBundle), compatibility: { arch: ['arm64'] } }, [releaseKey]),
    });
    expect(armRelease.status, JSON.stringify(armRelease.body)).toBe(201);
    const armId = armRelease.body.id as string;
    expect(
      (await call('PUT', `/api/v1/releases/${armId}/artifact`, { token: tokens.admin, raw: armBundle }))
        .status,
    ).toBe(200);
    const [armBox, x64Box] = [boxes[0]!, boxes[1]!];
    await armBox.birth({ hardware: { arch: 'arm64' } });
    await x64Box.birth({ hardware: { arch: 'x64' } });
    await waitFor(
      'architectures known',
      async () =>
        (await call('GET', `/api/v1/devices/${armBox.deviceId}`, { token: tokens.admin })).body.hardware
          ?.arch === 'arm64',
    );
    for (const box of [armBox, x64Box]) {
      box.updateBehaviour = 'healthy';
      box.desired.length = 0;
    }
    // The rollout names the x64 build; the arm64 box is offered the arm64 build of the same version.
    const id = await create({
      targets: { deviceIds: [armBox.deviceId, x64Box.deviceId] },
      phases: [{ name: 'all', percent: 100 }],
    });
    expect((await call('POST', `/api/v1/rollouts/${id}/start`, { token: tokens.operator })).status).toBe(200);
    await waitFor('both healthy', async () => (await rollout(id)).status === 'completed');
    const offerTo = (box: SimulatedBox) => box.desired.find((document) => document.spec.update)?.spec.update;
    expect(offerTo(armBox)?.release.signed.compatibility.arch).toEqual(['arm64']);
    expect(offerTo(armBox)?.url).toContain(`/api/v1/releases/${armId}/artifact`);
    expect(offerTo(x64Box)?.release.signed.compatibility.arch).toEqual(['x64']);
    expect(offerTo(x64Box)?.url).toContain(`/api/v1/releases/${releaseId}/artifact`);
    // The arm64 box's token fetches the arm64 bundle, and not the x64 one.
    const armOffer = offerTo(armBox)!;
    const fetched = await fetch(armOffer.url, {
      headers: { authorization: `Bearer ${armOffer.downloadToken}` },
    });
    expect(Buffer.from(await fetched.arrayBuffer())).toEqual(armBundle);
    const wrong = await fetch(armOffer.url.replace(armId, releaseId), {
      headers: { authorization: `Bearer ${armOffer.downloadToken}` },
    });
    expect(wrong.status).toBe(403);
    await expectDeleteRefused(armId);
  });

  it.skipIf(skip)(
    'keeps a report the box sent again after a restart once in its update history',
    async () => {
      const box = boxes[2]!;
      const history = async () =>
        DeviceUpdateDtoSchema.array().parse(
          (await call('GET', `/api/v1/devices/${box.deviceId}/updates`, { token: tokens.viewer })).body,
        );
      const before = (await history()).length;
      const offerId = `${crypto.randomUUID()}~1`;
      const ts = Date.now() - 5_000;
      // The same journaled report, delivered twice (once before the restart, once after), then a new one.
      const report = (at: number) =>
        box.reportUpdate({ rolloutId: offerId, version: '2.0.0', status: 'downloaded', ts: at });
      await report(ts);
      await report(ts);
      await report(ts + 1);
      await waitFor('the new report stored', async () => (await history()).length > before + 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const added = (await history()).slice(0, (await history()).length - before);
      expect(added.map((entry) => [entry.status, Date.parse(entry.reportedAt) - ts]).sort()).toEqual([
        ['downloaded', 0],
        ['downloaded', 1],
      ]);
    },
  );
});

describe.skipIf(!pgReachable)('rollout engine leadership across replicas (postgres)', () => {
  it('two instances on one schema: exactly one leads, the other takes over when it stops', async () => {
    const schema = randomSchemaName('agentbox_rollout_leader');
    const dirs = [
      mkdtempSync(join(tmpdir(), 'agentbox-leader-a-')),
      mkdtempSync(join(tmpdir(), 'agentbox-leader-b-')),
    ];
    const apps: RunningApp[] = [];
    try {
      for (const dir of dirs) {
        const rootKey = signingKey();
        const rootFile = join(dir, 'root.json');
        writeFileSync(
          rootFile,
          JSON.stringify(envelope(rootMetadata(1, [rootKey], [signingKey()]), [rootKey])),
        );
        apps.push(
          await createApp(
            await appConfig(dir, rootFile, {
              DATABASE_URL: TEST_POSTGRES_URL,
              AGENTBOX_DB_SCHEMA: schema,
              AGENTBOX_ROLLOUT_TICK_MS: '100',
              // Both replicas share the secrets key so download tokens verify on either.
              AGENTBOX_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
            }),
            { logger: new PinoLoggerService('fleet-service', 'silent') },
          ),
        );
      }
      const tickers = apps.map((app) => app.app.get(RolloutTicker));
      await waitFor('a leader', () => tickers.some((ticker) => ticker.isLeader()));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(tickers.filter((ticker) => ticker.isLeader())).toHaveLength(1);
      const leader = tickers.findIndex((ticker) => ticker.isLeader());
      await apps[leader]!.close();
      apps.splice(leader, 1);
      await waitFor('the other replica leads', () => apps[0]!.app.get(RolloutTicker).isLeader());
    } finally {
      for (const app of apps) await app.close();
      await dropSchema(schema);
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });
});
