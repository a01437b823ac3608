import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { create } from 'tar';
import { buildBundle, unpackBundle } from '@agentbox/ota';
import { readBootState, readSlotInfo, type BootState } from '@agentbox/launcher/boot-state';
import { BirthMessageSchema, topics } from '@agentbox/schemas';
import { ensureBuilt } from './support/device-agent-process.js';
import { waitFor } from './support/fake-fleet.js';
import {
  Box,
  BundleServer,
  artifactPath,
  boxEnv,
  builtDeviceAgentVersion,
  bumpMinor,
  installBox,
  readBundle,
  updateOffer,
  withoutRepeats,
  type BundleFile,
} from './support/ota-box.js';
import { useOtaSuite } from './support/ota-suite.js';

/**
 * One real box (install.sh layout, the real launcher, the real device agent from its slots) against an
 * Aedes broker standing in for the cloud: a signed release is offered in the retained desired state,
 * downloaded over HTTP with Range, installed into the other slot, booted, proven healthy and committed;
 * then a release that can never prove healthy is offered, and the box rolls itself back.
 */

describe('over-the-air update of a real box: launcher, slots, commit and self rollback', () => {
  const { fleet, view, keys } = useOtaSuite(() => ({ box, server: bundleServer, work }));
  let work: string;
  let bootPath: string;
  let x: BundleFile;
  let y: BundleFile;
  let z: BundleFile;
  let bundleServer: BundleServer;
  let box: Box;

  const bootState = (): BootState => {
    const state = readBootState(bootPath);
    if (!state) throw new Error('boot.json is missing');
    return state;
  };

  const updateReports = (rolloutId: string) => view.updateReports(rolloutId);

  /** What the fleet service does for a rollout: a newer retained desired state carrying `spec.update`. */
  const offer = (bundle: BundleFile, rolloutId: string, healthDeadlineSec: number) =>
    view.desire(updateOffer(keys, bundleServer, bundle, rolloutId, { healthDeadlineSec }));

  beforeAll(async () => {
    ensureBuilt();
    work = await mkdtemp(join(tmpdir(), 'agentbox-ota-e2e-'));
    const current = await builtDeviceAgentVersion();

    // X (what the box is installed with) and Y (the update): the real device agent, bundled by the library.
    const [builtX, builtY] = await Promise.all([
      buildBundle({ version: current, out: join(work, 'bundles', `x.tar.gz`) }),
      buildBundle({ version: bumpMinor(current, 1), out: join(work, 'bundles', `y.tar.gz`) }),
    ]);
    x = await readBundle(current, builtX.file);
    y = await readBundle(bumpMinor(current, 1), builtY.file);

    // Z: the same device agent, except that it can never reach the cloud, so it can never prove healthy.
    const zVersion = bumpMinor(current, 2);
    const zTree = join(work, 'z-tree');
    await unpackBundle(y.path, zTree);
    const pkgPath = join(zTree, 'package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { version: string };
    await writeFile(pkgPath, `${JSON.stringify({ ...pkg, version: zVersion }, null, 2)}\n`);
    await rename(join(zTree, 'dist', 'main.js'), join(zTree, 'dist', 'main-real.js'));
    await writeFile(
      join(zTree, 'dist', 'main.js'),
      "process.env.AGENTBOX_MQTT_URL = 'mqtt://127.0.0.1:9';\nawait import('./main-real.js');\n",
    );
    const zPath = join(work, 'bundles', 'z.tar.gz');
    await create({ gzip: true, file: zPath, cwd: zTree, portable: true }, [
      'package.json',
      'dist',
      'node_modules',
    ]);
    z = await readBundle(zVersion, zPath);
    await rm(zTree, { recursive: true, force: true });

    const installed = await installBox(work, x.path, keys);
    bootPath = installed.bootPath;
    expect(bootState()).toEqual({ v: 1, active: 'a', pending: null, last: null });
    expect(readSlotInfo(bootPath, 'a')?.version).toBe(x.version);

    bundleServer = await BundleServer.offering(y, z).start();
    await fleet.start();
    box = new Box(installed.launcherPath, boxEnv(installed, fleet, 'ota-e2e-box')).start();
  }, 180_000);

  it('the installed box runs version X from slot a under the launcher', async () => {
    const birth = await waitFor(() => fleet.messages('/up/birth')[0], 30_000, 'birth of X');
    view.deviceId = (
      JSON.parse(await readFile(join(work, 'state', 'credentials.json'), 'utf8')) as { deviceId: string }
    ).deviceId;
    expect(birth.topic).toBe(topics.birth(view.deviceId));
    expect(BirthMessageSchema.parse(birth.json).agentVersion).toBe(x.version);
    expect(box.output).toContain('starting slot a');
  }, 40_000);

  it('release Y: downloads with the token, installs into slot b, restarts into it, commits, reports healthy', async () => {
    await offer(y, 'rollout-y', 40);
    const healthy = await waitFor(
      () => updateReports('rollout-y').find((report) => report.status === 'healthy'),
      90_000,
      'healthy report for Y',
    );
    expect(healthy).toMatchObject({ version: y.version, runningVersion: y.version });

    const statuses = updateReports('rollout-y').map((report) => report.status);
    const order = ['downloading', 'downloaded', 'installing', 'rebooting', 'healthy'];
    expect(
      withoutRepeats(statuses.filter((status) => order.includes(status) && status !== 'downloading')),
    ).toEqual(order.slice(1));
    expect(statuses[0]).toBe('downloading');
    const rebooting = updateReports('rollout-y').find((report) => report.status === 'rebooting')!;
    expect(rebooting.runningVersion).toBe(x.version);
    const progress = updateReports('rollout-y')
      .filter((report) => report.status === 'downloading')
      .at(-1)!;
    expect(progress.progress).toEqual({ bytes: y.bytes.length, total: y.bytes.length });

    const forY = bundleServer.requestsFor(artifactPath(y));
    expect(forY.length).toBeGreaterThan(0);
    expect(forY.every((request) => request.authorized)).toBe(true);

    expect(bootState()).toMatchObject({
      active: 'b',
      pending: null,
      last: { result: 'committed', slot: 'b', version: y.version, rolloutId: 'rollout-y' },
    });
    // Marked once the report is queued, which is just after it may already have arrived.
    await waitFor(() => bootState().last?.reportedAt, 10_000, 'the commit marked reported');
    expect(readSlotInfo(bootPath, 'b')?.version).toBe(y.version);
    expect(readSlotInfo(bootPath, 'a')?.version).toBe(x.version);
    expect(box.output).toContain(`starting pending slot b (${y.version})`);
    await waitFor(
      () =>
        fleet
          .messages('/up/birth')
          .some((message) => BirthMessageSchema.parse(message.json).agentVersion === y.version),
      20_000,
      'birth of Y',
    );
  }, 120_000);

  it('release Z never proves healthy: the box rolls itself back to Y and reports why', async () => {
    const birthsBefore = fleet.messages('/up/birth').length;
    await offer(z, 'rollout-z', 10);
    const rolledBack = await waitFor(
      () => updateReports('rollout-z').find((report) => report.status === 'rolled-back'),
      90_000,
      'rolled-back report for Z',
    );
    expect(rolledBack).toMatchObject({
      version: z.version,
      reason: 'health-check-failed',
      runningVersion: y.version,
    });
    expect(rolledBack.detail).toMatch(/not healthy within \d+s: not connected to the cloud/);
    const statuses = updateReports('rollout-z').map((report) => report.status);
    expect(statuses).toContain('rebooting');
    expect(statuses).not.toContain('healthy');
    expect(statuses.at(-1)).toBe('rolled-back');

    expect(box.output).toContain(`starting pending slot a (${z.version})`);
    expect(box.hasLog('the new version did not prove healthy; rolling back')).toBe(true);
    const boot = bootState();
    expect(boot).toMatchObject({
      active: 'b',
      pending: null,
      last: {
        result: 'rolled-back',
        slot: 'a',
        version: z.version,
        rolloutId: 'rollout-z',
        reason: 'health-check-failed',
      },
    });
    await waitFor(() => bootState().last?.reportedAt, 10_000, 'the rollback marked reported');
    // Z booted once: the rollback came from its own health check, not from the launcher's attempts.
    expect(boot.last?.attempts).toBe(1);
    const births = fleet.messages('/up/birth').slice(birthsBefore);
    expect(births.length).toBeGreaterThan(0);
    expect(births.every((message) => BirthMessageSchema.parse(message.json).agentVersion === y.version)).toBe(
      true,
    );
  }, 120_000);
});
