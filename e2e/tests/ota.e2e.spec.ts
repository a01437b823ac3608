import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, type ReleaseManifest, type SignedRelease } from '@agentbox/schemas';
import { waitFor } from '@agentbox/test-support';
import { readBootJson, readSlotVersion, releaseCliRun, type InstalledBox } from '../support/box.js';
import { bumpMinor, currentAgentVersion, OtaSetup } from '../support/ota.js';

/** The parts of GET /api/v1/rollouts/:id this test looks at. */
interface RolloutView {
  id: string;
  status: 'draft' | 'running' | 'paused' | 'completed' | 'aborted' | 'canceled';
  pauseReason: string | null;
  phase: number;
  counts: Record<string, number>;
  phases: Array<{ index: number; start: number; end: number; counts: Record<string, number> }>;
  boxes: Array<{
    deviceId: string;
    phase: number;
    status: string;
    reason: string | null;
    offeredAt: string | null;
  }>;
}

interface DeviceUpdateView {
  rolloutId: string;
  version: string;
  status: string;
  reason: string | null;
  runningVersion: string;
  receivedAt: string;
}

const BOXES = 3;
const X = currentAgentVersion;
const Y = bumpMinor(X, 1);
const Z = bumpMinor(X, 2);

describe('over-the-air updates: three real boxes under the launcher, rolled out phase by phase', () => {
  const ota = new OtaSetup('agentbox-e2e-ota-');
  const { work, keys, rootFile, platform, boxes, deviceIds } = ota;
  const bundleOf = (version: string) => ota.bundleOf(version);
  const manifestOf = (version: string) => ota.manifestOf(version);

  async function rollout(id: string): Promise<RolloutView> {
    const response = await platform.api.request<RolloutView>('GET', `/api/v1/rollouts/${id}`);
    expect(response.status).toBe(200);
    return response.body;
  }

  async function updatesOf(deviceId: string): Promise<DeviceUpdateView[]> {
    const response = await platform.api.request<DeviceUpdateView[]>(
      'GET',
      `/api/v1/devices/${deviceId}/updates`,
    );
    expect(response.status).toBe(200);
    return response.body;
  }

  async function upload(version: string): Promise<string> {
    const release = await ota.uploadRelease(version);
    expect(release?.status).toBe('ready');
    return release!.id;
  }

  async function startRollout(releaseId: string, abort: { failurePct: number; minFinished: number }) {
    const created = await ota.createCanaryRollout(releaseId, {
      abort,
      perBoxTimeoutSec: 150,
      healthDeadlineSec: 40,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const started = await platform.api.request('POST', `/api/v1/rollouts/${id}/start`);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    return id;
  }

  beforeAll(async () => {
    await ota.buildReleases([X, Y]);
    await ota.startFleet({
      count: BOXES,
      version: X,
      deviceName: (i) => `ota-box-${i}`,
      hardwareId: (i) => `ota-e2e-box-${i}-hardware`,
    });
  }, 300_000);

  afterAll(async () => {
    await ota.stopBoxes();
    await platform.stop();
    if (!process.env.AGENTBOX_E2E_KEEP) ota.removeWork();
  }, 60_000);

  const installed = (i: number): InstalledBox => boxes[i]!.box;

  it('boxes laid out by install.sh run release X from slot a under the launcher', () => {
    for (let i = 0; i < BOXES; i += 1) {
      const boot = readBootJson(installed(i));
      expect(boot.active).toBe('a');
      expect(boot.pending).toBeNull();
      expect(readSlotVersion(installed(i), 'a')).toBe(X);
    }
  });

  it('release Y uploaded with the CLI reaches the canary first, then the rest, and every box ends healthy on Y in slot b', async () => {
    const releaseId = await upload(Y);
    const id = await startRollout(releaseId, { failurePct: 50, minFinished: 1 });

    // While the canary phase runs, the other boxes are not offered anything.
    const inCanary = await waitFor('the canary offered', async () => {
      const view = await rollout(id);
      return view.boxes.some((box) => box.offeredAt !== null) ? view : undefined;
    });
    expect(inCanary.phase).toBe(0);
    expect(inCanary.boxes.filter((box) => box.offeredAt !== null)).toHaveLength(1);
    const canaryId = inCanary.boxes.find((box) => box.phase === 0)!.deviceId;

    const done = await waitFor(
      'the rollout completed',
      async () => {
        const view = await rollout(id);
        if (view.status === 'aborted' || view.status === 'canceled' || view.status === 'paused') {
          throw new Error(`rollout ${view.status}: ${JSON.stringify(view.boxes)}`);
        }
        return view.status === 'completed' ? view : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n${boxes.map((box) => box.log().slice(-3000)).join('\n')}`,
      );
    });
    expect(done.phases).toHaveLength(2);
    expect(done.phases.map((phase) => [phase.start, phase.end])).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(done.boxes.map((box) => box.status)).toEqual(['healthy', 'healthy', 'healthy']);

    // Phase by phase: the rest were offered only after the canary reported healthy.
    const canaryHealthy = (await updatesOf(canaryId)).find(
      (update) => update.rolloutId === id && update.status === 'healthy',
    );
    expect(canaryHealthy?.runningVersion).toBe(Y);
    for (const box of done.boxes.filter((b) => b.phase === 1)) {
      expect(Date.parse(box.offeredAt!)).toBeGreaterThanOrEqual(Date.parse(canaryHealthy!.receivedAt));
    }

    for (let i = 0; i < BOXES; i += 1) {
      const device = await waitFor(`box ${i} on ${Y}`, async () => {
        const view = await platform.api.device(deviceIds[i]!);
        return view.online && view.agentVersion === Y ? view : undefined;
      });
      expect(device.agentVersion).toBe(Y);
      const statuses = (await updatesOf(deviceIds[i]!))
        .filter((update) => update.rolloutId === id)
        .map((update) => update.status);
      expect(statuses).toContain('downloaded');
      expect(statuses).toContain('rebooting');
      expect(statuses).toContain('healthy');
      const boot = readBootJson(installed(i));
      expect(boot.active).toBe('b');
      expect(boot.pending).toBeNull();
      expect(boot.last).toMatchObject({ result: 'committed', slot: 'b', version: Y, rolloutId: id });
      expect(readSlotVersion(installed(i), 'b')).toBe(Y);
    }
  }, 300_000);

  it('a release Z that cannot start rolls the canary back to Y by itself, aborts the rollout, and is never offered to the others', async () => {
    // Z: Y's bundle with another version and a main.js that exits at once, signed with the release key.
    const tree = join(work, 'z-tree');
    mkdirSync(tree, { recursive: true });
    const untar = spawnSync('tar', ['-xzf', bundleOf(Y), '-C', tree], { encoding: 'utf8' });
    expect(untar.status, untar.stderr).toBe(0);
    const pkgFile = join(tree, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(pkgFile, `${JSON.stringify({ ...pkg, version: Z }, null, 2)}\n`);
    writeFileSync(
      join(tree, 'dist', 'main.js'),
      "console.error('release Z: broken on purpose');\nprocess.exit(1);\n",
    );
    const tar = spawnSync('tar', ['-czf', bundleOf(Z), '-C', tree, 'package.json', 'dist', 'node_modules'], {
      encoding: 'utf8',
    });
    expect(tar.status, tar.stderr).toBe(0);
    const yRelease = JSON.parse(readFileSync(manifestOf(Y), 'utf8')) as SignedRelease;
    const manifest: ReleaseManifest = {
      ...yRelease.signed,
      version: Z,
      createdAt: new Date().toISOString(),
      artifact: {
        name: `agentbox-device-agent-${Z}.tar.gz`,
        size: statSync(bundleOf(Z)).size,
        sha256: createHash('sha256')
          .update(readFileSync(bundleOf(Z)))
          .digest('hex'),
      },
    };
    const releaseKey = JSON.parse(readFileSync(join(keys, 'release.pub.json'), 'utf8')) as { keyid: string };
    const signature = sign(
      null,
      Buffer.from(canonicalJson(manifest), 'utf8'),
      createPrivateKey(readFileSync(join(keys, 'release.pem'), 'utf8')),
    ).toString('base64');
    writeFileSync(
      manifestOf(Z),
      JSON.stringify({ signed: manifest, signatures: [{ keyid: releaseKey.keyid, sig: signature }] }),
    );
    await releaseCliRun(['verify', '--root', rootFile, '--manifest', manifestOf(Z), '--bundle', bundleOf(Z)]);

    const releaseId = await upload(Z);
    const id = await startRollout(releaseId, { failurePct: 1, minFinished: 1 });

    const aborted = await waitFor(
      'the rollout aborted',
      async () => {
        const view = await rollout(id);
        if (view.status === 'completed') throw new Error('a broken release completed its rollout');
        return view.status === 'aborted' ? view : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    ).catch((error: unknown) => {
      throw new Error(
        `${(error as Error).message}\n${boxes.map((box) => box.log().slice(-3000)).join('\n')}`,
      );
    });
    const canary = aborted.boxes.find((box) => box.phase === 0)!;
    expect(canary.status).toBe('rolled-back');
    const canaryIndex = deviceIds.indexOf(canary.deviceId);

    // The canary is back on Y, in the slot it committed before.
    const canaryUpdates = (await updatesOf(canary.deviceId)).filter((update) => update.rolloutId === id);
    const rolledBack = canaryUpdates.find((update) => update.status === 'rolled-back');
    expect(rolledBack?.reason).toBe('crashed');
    expect(rolledBack?.runningVersion).toBe(Y);
    const canaryDevice = await waitFor('the canary online on Y', async () => {
      const view = await platform.api.device(canary.deviceId);
      return view.online && view.agentVersion === Y ? view : undefined;
    });
    expect(canaryDevice.agentVersion).toBe(Y);
    const boot = readBootJson(installed(canaryIndex));
    expect(boot.active).toBe('b');
    expect(boot.pending).toBeNull();
    expect(boot.last).toMatchObject({ result: 'rolled-back', slot: 'a', version: Z, reason: 'crashed' });
    expect(boxes[canaryIndex]!.log()).toContain('release Z: broken on purpose');

    // A few more ticks: the others stay untouched, on Y.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = await rollout(id);
    expect(after.status).toBe('aborted');
    for (const box of after.boxes.filter((b) => b.deviceId !== canary.deviceId)) {
      expect(box.status).toBe('pending');
      expect(box.offeredAt).toBeNull();
      expect((await updatesOf(box.deviceId)).filter((update) => update.rolloutId === id)).toEqual([]);
      const device = await platform.api.device(box.deviceId);
      expect(device.agentVersion).toBe(Y);
      expect(readBootJson(installed(deviceIds.indexOf(box.deviceId))).active).toBe('b');
    }
  }, 300_000);
});
