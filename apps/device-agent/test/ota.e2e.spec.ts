import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { create } from 'tar';
import {
  buildBundle,
  createReleaseManifest,
  createRootMetadata,
  generateKeyPair,
  sha256File,
  signEnvelope,
  unpackBundle,
  type Architecture,
  type KeyPair,
} from '@agentbox/ota';
import { readBootState, readSlotInfo, type BootState } from '@agentbox/launcher/boot-state';
import {
  BirthMessageSchema,
  UpdateMessageSchema,
  topics,
  type SignedRelease,
  type UpdateOffer,
  type UpdateStatusReport,
} from '@agentbox/schemas';
import { APP_DIR, ensureBuilt } from './support/agent-process.js';
import { FakeFleet, waitFor } from './support/fake-fleet.js';

/**
 * One real box (install.sh layout, the real launcher, the real device agent from its slots) against an
 * Aedes broker standing in for the cloud: a signed release is offered in the retained desired state,
 * downloaded over HTTP with Range, installed into the other slot, booted, proven healthy and committed;
 * then a release that can never prove healthy is offered, and the box rolls itself back.
 */

const REPO_ROOT = resolve(APP_DIR, '../..');
const INSTALL_SH = join(REPO_ROOT, 'infra/box/install.sh');
const DAY = 86_400_000;
const TOKEN = 'e2e-download-token-0123456789abcdef';

interface BundleFile {
  version: string;
  path: string;
  bytes: Buffer;
  sha256: string;
}

interface BundleRequest {
  url: string;
  range: string | undefined;
  authorized: boolean;
}

/** Serves bundles by path with Range (206) support; remembers every request. */
async function startBundleServer(bundles: Map<string, Buffer>) {
  const requests: BundleRequest[] = [];
  const server: Server = createServer((req, res) => {
    const headers: IncomingHttpHeaders = req.headers;
    const authorized = headers.authorization === `Bearer ${TOKEN}`;
    requests.push({ url: req.url ?? '', range: headers.range, authorized });
    if (!authorized) return void res.writeHead(401).end();
    const body = bundles.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    const match = /^bytes=(\d+)-(\d*)$/.exec(headers.range ?? '');
    if (!match) {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
      return void res.end(body);
    }
    const start = Number(match[1]);
    const end = match[2] ? Math.min(Number(match[2]), body.length - 1) : body.length - 1;
    if (start >= body.length) {
      return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    }
    res.writeHead(206, {
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${body.length}`,
      'accept-ranges': 'bytes',
    });
    res.end(body.subarray(start, end + 1));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, requests };
}

function bumpMinor(version: string, by: number): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${minor! + by}.0`;
}

/** The launcher (and through it the device agents it starts) as one real process tree. */
class Box {
  output = '';
  readonly logs: Record<string, unknown>[] = [];
  private child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(
    private readonly launcher: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): this {
    const child = spawn(process.execPath, [this.launcher], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.output += `${line}\n`;
        }
        newline = buffer.indexOf('\n');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    this.exit = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    return this;
  }

  hasLog(msg: string): boolean {
    return this.logs.some((line) => line.msg === msg);
  }

  /** SIGTERM goes through the launcher to the agent; anything still alive after that is killed. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const stopped = await Promise.race([
      this.exit!.then(() => true),
      new Promise<false>((done) => setTimeout(() => done(false), 20_000)),
    ]);
    if (stopped) return;
    const pids = new Set(this.logs.map((line) => line.pid).filter((pid) => typeof pid === 'number'));
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    child.kill('SIGKILL');
    await this.exit;
  }
}

describe('over-the-air update of a real box: launcher, slots, commit and self rollback', () => {
  const fleet = new FakeFleet();
  let work: string;
  let stateDir: string;
  let bootPath: string;
  let rootKey: KeyPair;
  let releaseKey: KeyPair;
  let x: BundleFile;
  let y: BundleFile;
  let z: BundleFile;
  let bundleServer: Awaited<ReturnType<typeof startBundleServer>>;
  let box: Box;
  let deviceId = '';
  let desiredVersion = 0;

  const bootState = (): BootState => {
    const state = readBootState(bootPath);
    if (!state) throw new Error('boot.json is missing');
    return state;
  };

  const updateReports = (rolloutId: string): UpdateStatusReport[] =>
    fleet
      .messages(`${deviceId}/up/update`)
      .flatMap((message) => UpdateMessageSchema.parse(message.json).reports)
      .filter((report) => report.rolloutId === rolloutId);

  const sign = (bundle: BundleFile): SignedRelease =>
    signEnvelope(
      createReleaseManifest({
        type: 'release',
        version: bundle.version,
        channel: 'stable',
        createdAt: new Date().toISOString(),
        expires: new Date(Date.now() + 30 * DAY).toISOString(),
        artifact: {
          name: `agentbox-device-agent-${bundle.version}.tar.gz`,
          size: bundle.bytes.length,
          sha256: bundle.sha256,
        },
        compatibility: { arch: [process.arch as Architecture] },
        notes: `e2e release ${bundle.version}`,
        rollbackTarget: false,
      }),
      [releaseKey.privateKeyPem],
    );

  /** What the fleet service does for a rollout: a newer retained desired state carrying `spec.update`. */
  const offer = async (bundle: BundleFile, rolloutId: string, healthDeadlineSec: number) => {
    const update: UpdateOffer = {
      rolloutId,
      release: sign(bundle),
      roots: [],
      url: `${bundleServer.url}/artifacts/${bundle.version}.tar.gz`,
      downloadToken: TOKEN,
      policy: { force: false, maxWaitSec: 0, healthDeadlineSec },
    };
    desiredVersion += 1;
    await fleet.publish(
      topics.desired(deviceId),
      { v: 1, version: desiredVersion, ts: Date.now(), spec: { telemetry: { intervalSec: 2 }, update } },
      { retain: true },
    );
  };

  const readBundle = async (version: string, path: string): Promise<BundleFile> => ({
    version,
    path,
    bytes: await readFile(path),
    sha256: await sha256File(path),
  });

  beforeAll(async () => {
    ensureBuilt();
    work = await mkdtemp(join(tmpdir(), 'agentbox-ota-e2e-'));
    stateDir = join(work, 'state');
    bootPath = join(stateDir, 'boot.json');
    const current = (JSON.parse(await readFile(join(APP_DIR, 'package.json'), 'utf8')) as { version: string })
      .version;

    // X (what the box is installed with) and Y (the update): the real device agent, bundled by the library.
    const [builtX, builtY] = await Promise.all([
      buildBundle({ version: current, out: join(work, 'bundles', `x.tar.gz`) }),
      buildBundle({ version: bumpMinor(current, 1), out: join(work, 'bundles', `y.tar.gz`) }),
    ]);
    x = await readBundle(current, builtX.file);
    y = await readBundle(bumpMinor(current, 1), builtY.file);

    // Z: the same agent, except that it can never reach the cloud, so it can never prove healthy.
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

    // The fleet's trust: a root key held offline, a release key listed in the root the box pins at install.
    rootKey = generateKeyPair();
    releaseKey = generateKeyPair();
    const root = signEnvelope(
      createRootMetadata({
        version: 1,
        expires: new Date(Date.now() + 365 * DAY).toISOString(),
        rootKeys: [rootKey.publicKey],
        releaseKeys: [releaseKey.publicKey],
      }),
      [rootKey.privateKeyPem],
    );
    const rootPath = join(work, 'root.json');
    await writeFile(rootPath, JSON.stringify(root, null, 2));

    const prefix = join(work, 'opt');
    const install = spawnSync(
      'bash',
      [
        INSTALL_SH,
        '--bundle',
        x.path,
        '--root',
        rootPath,
        '--prefix',
        prefix,
        '--state-dir',
        stateDir,
        '--config-dir',
        join(work, 'etc'),
        '--unit-dir',
        join(work, 'systemd'),
        '--no-systemd',
      ],
      { encoding: 'utf8' },
    );
    expect(install.status, install.stderr).toBe(0);
    expect(bootState()).toEqual({ v: 1, active: 'a', pending: null, last: null });
    expect(readSlotInfo(bootPath, 'a')?.version).toBe(x.version);

    bundleServer = await startBundleServer(
      new Map([
        [`/artifacts/${y.version}.tar.gz`, y.bytes],
        [`/artifacts/${z.version}.tar.gz`, z.bytes],
      ]),
    );
    await fleet.start();
    await mkdir(join(work, 'home'), { recursive: true });
    box = new Box(join(prefix, 'launcher', 'launcher.mjs'), {
      HOME: join(work, 'home'),
      AGENTBOX_STATE_DIR: stateDir,
      AGENTBOX_FLEET_URL: fleet.fleetUrl,
      AGENTBOX_CLAIM_TOKEN: fleet.claimToken,
      AGENTBOX_DEVICE_NAME: 'ota-e2e-box',
      AGENTBOX_TELEMETRY_INTERVAL_SEC: '2',
      AGENTBOX_MQTT_KEEPALIVE_SEC: '2',
      AGENTBOX_WEBHOOK_PORT: '0',
      AGENTBOX_OTA_DISK_RESERVE_MB: '0',
      AGENTBOX_LOG_LEVEL: 'info',
      AGENTBOX_LAUNCHER_BACKOFF_MS: '200',
      AGENTBOX_LAUNCHER_KILL_GRACE_MS: '5000',
    }).start();
  }, 180_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') {
      console.error(
        'box output:',
        box?.output.slice(-4_000),
        '\nlast logs:',
        box?.logs.slice(-40).map((line) => JSON.stringify(line)),
      );
    }
  });

  afterAll(async () => {
    await box?.stop();
    await fleet.stop();
    bundleServer?.server.closeAllConnections();
    await new Promise((done) => bundleServer?.server.close(done) ?? done(undefined));
    await rm(work, { recursive: true, force: true });
  }, 60_000);

  it('the installed box runs version X from slot a under the launcher', async () => {
    const birth = await waitFor(() => fleet.messages('/up/birth')[0], 30_000, 'birth of X');
    deviceId = (
      JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8')) as { deviceId: string }
    ).deviceId;
    expect(birth.topic).toBe(topics.birth(deviceId));
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
    expect(statuses.filter((status) => order.includes(status) && status !== 'downloading')).toEqual(
      order.slice(1),
    );
    expect(statuses[0]).toBe('downloading');
    const rebooting = updateReports('rollout-y').find((report) => report.status === 'rebooting')!;
    expect(rebooting.runningVersion).toBe(x.version);
    const progress = updateReports('rollout-y')
      .filter((report) => report.status === 'downloading')
      .at(-1)!;
    expect(progress.progress).toEqual({ bytes: y.bytes.length, total: y.bytes.length });

    const forY = bundleServer.requests.filter((request) => request.url.endsWith(`${y.version}.tar.gz`));
    expect(forY.length).toBeGreaterThan(0);
    expect(forY.every((request) => request.authorized)).toBe(true);

    expect(bootState()).toMatchObject({
      active: 'b',
      pending: null,
      last: { result: 'committed', slot: 'b', version: y.version, rolloutId: 'rollout-y' },
    });
    expect(bootState().last?.reportedAt).toBeGreaterThan(0);
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
    expect(boot.last?.reportedAt).toBeGreaterThan(0);
    // Z booted once: the rollback came from its own health check, not from the launcher's attempts.
    expect(boot.last?.attempts).toBe(1);
    const births = fleet.messages('/up/birth').slice(birthsBefore);
    expect(births.length).toBeGreaterThan(0);
    expect(births.every((message) => BirthMessageSchema.parse(message.json).agentVersion === y.version)).toBe(
      true,
    );
  }, 120_000);
});
