import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { create } from 'tar';
import ts from 'typescript';
import {
  createReleaseManifest,
  createRootMetadata,
  generateKeyPair,
  sha256File,
  signEnvelope,
  type Architecture,
  type KeyPair,
} from '@agentbox/ota';
import {
  ReportedStateMessageSchema,
  UpdateMessageSchema,
  topics,
  type SignedRelease,
  type SignedRoot,
  type UpdateOffer,
  type UpdateStatusReport,
} from '@agentbox/schemas';
import { APP_DIR } from './device-agent-process.js';
import { waitFor, type FakeFleet } from './fake-fleet.js';
import { onJsonLines } from './json-lines.js';

/**
 * What the OTA end-to-end tests share: the fleet's keys and signed releases, a box laid out by the real
 * infra/box/install.sh, the real launcher as a process tree (with kill -9 of the device agent and power loss), an
 * HTTP server for bundles (Range, optional throttle) and the fleet's side of `spec.update` / `up/update`.
 */

export const REPO_ROOT = resolve(APP_DIR, '../..');
const INSTALL_SH = join(REPO_ROOT, 'infra/box/install.sh');
const DAY = 86_400_000;
export const DOWNLOAD_TOKEN = 'e2e-download-token-0123456789abcdef';

export interface BundleFile {
  version: string;
  path: string;
  bytes: Buffer;
  sha256: string;
}

export async function readBundle(version: string, path: string): Promise<BundleFile> {
  return { version, path, bytes: await readFile(path), sha256: await sha256File(path) };
}

/** The version in apps/device-agent/package.json (what the built agent reports). */
export async function builtDeviceAgentVersion(): Promise<string> {
  return (JSON.parse(await readFile(join(APP_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Update statuses with consecutive repeats collapsed: reports are delivered at least once (a report
 * journaled but not yet acknowledged goes out again after a restart), and a restarted device agent says again
 * where it stands.
 */
export function withoutRepeats<T>(statuses: readonly T[]): T[] {
  return statuses.filter((status, index) => index === 0 || statuses[index - 1] !== status);
}

export function bumpMinor(version: string, by: number): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${minor! + by}.0`;
}

/** The test entry (ota-box-main.ts) as plain JavaScript, for a test bundle's dist/main.js. */
async function otaTestMain(): Promise<string> {
  const source = await readFile(join(APP_DIR, 'test', 'support', 'ota-box-main.ts'), 'utf8');
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
}

export interface SlimBundleOptions {
  /** Incompressible files, so a download or an unpack lasts long enough to be interrupted. */
  filler?: { files: number; bytesEach: number };
  /** `dist/main.js` is the test entry (ota-box-main.ts), with its hold and clock, instead of src/main.ts. */
  otaTestMain?: boolean;
}

/**
 * The built device agent (dist/ and package.json set to `version`) as a bundle WITHOUT node_modules: the box
 * must then live below the repository's node_modules (see `workDirInRepo`), where Node finds the
 * dependencies. Seconds instead of the minute a self-contained bundle costs to build and unpack.
 */
export async function buildSlimBundle(
  version: string,
  out: string,
  { filler = { files: 0, bytesEach: 0 }, otaTestMain: withTestMain = false }: SlimBundleOptions = {},
): Promise<BundleFile> {
  const tree = `${out}.tree`;
  await rm(tree, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  const pkg = JSON.parse(await readFile(join(APP_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(tree, 'package.json'), `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
  await cp(join(APP_DIR, 'dist'), join(tree, 'dist'), { recursive: true });
  if (withTestMain) await writeFile(join(tree, 'dist', 'main.js'), await otaTestMain());
  const entries = ['package.json', 'dist'];
  if (filler.files > 0) {
    await mkdir(join(tree, 'filler'));
    for (let i = 0; i < filler.files; i += 1)
      await writeFile(
        join(tree, 'filler', `${String(i).padStart(5, '0')}.bin`),
        randomBytes(filler.bytesEach),
      );
    entries.push('filler');
  }
  await create({ gzip: true, file: out, cwd: tree, portable: true }, entries);
  await rm(tree, { recursive: true, force: true });
  return readBundle(version, out);
}

/** A temp dir below the repository's node_modules, so slim bundles resolve their dependencies there. */
export async function workDirInRepo(name: string): Promise<string> {
  const dir = join(REPO_ROOT, 'node_modules', '.cache', `agentbox-${name}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** The fleet's trust: a root key held offline, a release key listed in the root a box pins at install. */
export class FleetKeys {
  readonly rootKey: KeyPair = generateKeyPair();
  readonly releaseKey: KeyPair = generateKeyPair();
  readonly root: SignedRoot = signEnvelope(
    createRootMetadata({
      version: 1,
      expires: new Date(Date.now() + 365 * DAY).toISOString(),
      rootKeys: [this.rootKey.publicKey],
      releaseKeys: [this.releaseKey.publicKey],
    }),
    [this.rootKey.privateKeyPem],
  );

  sign(bundle: BundleFile): SignedRelease {
    return signEnvelope(
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
      [this.releaseKey.privateKeyPem],
    );
  }
}

export interface InstalledBox {
  stateDir: string;
  bootPath: string;
  launcherPath: string;
  home: string;
}

/** Lays a box out in `work` with infra/box/install.sh: `bundle` in slot a, the fleet's root pinned. */
export async function installBox(work: string, bundle: string, keys: FleetKeys): Promise<InstalledBox> {
  const stateDir = join(work, 'state');
  const rootPath = join(work, 'root.json');
  await writeFile(rootPath, JSON.stringify(keys.root, null, 2));
  const prefix = join(work, 'opt');
  const install = spawnSync(
    'bash',
    [
      INSTALL_SH,
      '--bundle',
      bundle,
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
  const home = join(work, 'home');
  await mkdir(home, { recursive: true });
  return {
    stateDir,
    bootPath: join(stateDir, 'boot.json'),
    launcherPath: join(prefix, 'launcher', 'launcher.mjs'),
    home,
  };
}

/** The environment systemd would give the launcher (agent.env), tuned for short tests. */
export function boxEnv(box: InstalledBox, fleet: FakeFleet, name: string): Record<string, string> {
  return {
    HOME: box.home,
    AGENTBOX_STATE_DIR: box.stateDir,
    AGENTBOX_FLEET_URL: fleet.fleetUrl,
    AGENTBOX_CLAIM_TOKEN: fleet.claimToken,
    AGENTBOX_DEVICE_NAME: name,
    AGENTBOX_TELEMETRY_INTERVAL_SEC: '2',
    AGENTBOX_MQTT_KEEPALIVE_SEC: '2',
    AGENTBOX_WEBHOOK_PORT: '0',
    AGENTBOX_OTA_DISK_RESERVE_MB: '0',
    AGENTBOX_LOG_LEVEL: 'info',
    AGENTBOX_LAUNCHER_BACKOFF_MS: '200',
    AGENTBOX_LAUNCHER_KILL_GRACE_MS: '5000',
  };
}

// ---------------------------------------------------------------- processes

/** Live (not zombie) processes whose parent is `pid`, from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = procStat(Number(name));
    if (fields && fields.ppid === pid && fields.state !== 'Z') children.push(Number(name));
  }
  return children;
}

/** Gone means reaped too: a zombie still holds its pid, and the spool's lock takes a live pid for its owner. */
export function isGone(pid: number): boolean {
  return procStat(pid) === undefined;
}

function procStat(pid: number): { state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * The launcher (and through it the device agents it starts) as one real process tree, started the way
 * systemd would start `agentbox.service`; `start()` again after a power loss is systemd at the next boot.
 */
export class Box {
  /** Launcher messages (stderr) and any non-JSON output, across every start. */
  output = '';
  /** The device agents' JSON log lines, across every start. */
  readonly logs: Record<string, unknown>[] = [];
  private child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(
    private readonly launcher: string,
    private readonly env: Record<string, string>,
  ) {}

  /** `extraEnv` applies to this start only (systemd reading a changed agent.env). */
  start(extraEnv: Record<string, string> = {}): this {
    const child = spawn(process.execPath, [this.launcher], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    onJsonLines(
      child.stdout,
      (line) => this.logs.push(line),
      (line) => {
        this.output += `${line}\n`;
      },
    );
    child.stderr.on('data', (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    });
    this.exit = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    return this;
  }

  get launcherPid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  /** The device agent the launcher runs now (its one child), if any. */
  deviceAgentPid(): number | undefined {
    const launcher = this.launcherPid;
    return launcher === undefined ? undefined : childPids(launcher)[0];
  }

  hasLog(msg: string): boolean {
    return this.logs.some((line) => line.msg === msg);
  }

  /** Log lines with this message, optionally only from one device agent process. */
  logsWith(msg: string, pid?: number): Record<string, unknown>[] {
    return this.logs.filter((line) => line.msg === msg && (pid === undefined || line.pid === pid));
  }

  /** kill -9 of the device agent alone (a crash); the launcher stays and restarts it. Returns its pid. */
  async killDeviceAgent(): Promise<number> {
    const pid = await waitFor(() => this.deviceAgentPid(), 20_000, 'a running device agent');
    killQuietly(pid, 'SIGKILL');
    await waitFor(() => isGone(pid), 10_000, `device agent ${pid} gone`);
    return pid;
  }

  /**
   * Power loss: the launcher is frozen first (so it cannot start anything in between), then it and every
   * process group it started die by SIGKILL at once. Nothing gets to flush, report or clean up.
   */
  async powerLoss(): Promise<void> {
    const launcher = this.launcherPid;
    if (launcher === undefined) throw new Error('the launcher is not running');
    killQuietly(launcher, 'SIGSTOP');
    const children = childPids(launcher);
    killQuietly(launcher, 'SIGKILL');
    for (const pid of children) {
      killQuietly(-pid, 'SIGKILL'); // the device agent leads its own process group
      killQuietly(pid, 'SIGKILL');
    }
    await this.exit;
    // Orphans are reaped by pid 1; after a real power loss no old process is left either.
    await waitFor(() => children.every(isGone), 10_000, 'the device agents gone');
  }

  /** SIGTERM goes through the launcher to the device agent; anything still alive after that is killed. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const deviceAgents = child.pid === undefined ? [] : childPids(child.pid);
    child.kill('SIGTERM');
    const stopped = await Promise.race([
      this.exit!.then(() => true),
      new Promise<false>((done) => setTimeout(() => done(false), 20_000)),
    ]);
    if (stopped) return;
    for (const pid of deviceAgents) killQuietly(pid, 'SIGKILL');
    child.kill('SIGKILL');
    await this.exit;
  }

  /** For a failed test: the launcher's output and the device agents' last log lines. */
  describe(): string {
    return `box output:\n${this.output.slice(-4_000)}\nlast logs:\n${this.logs
      .slice(-40)
      .map((line) => JSON.stringify(line))
      .join('\n')}`;
  }
}

// ---------------------------------------------------------------- the bundle server

export interface BundleRequest {
  url: string;
  range: string | undefined;
  authorized: boolean;
  /** Bytes handed to the socket for this request so far. */
  sent: number;
}

/**
 * Serves bundles by path with Range (206) support, like the fleet service's artifact endpoint, and
 * remembers every request. With `throttle` set, responses go out one slice per tick (read at every tick,
 * so clearing it lets a slow response finish at full speed).
 */
export class BundleServer {
  readonly requests: BundleRequest[] = [];
  throttle: { bytesPerTick: number; tickMs: number } | undefined;
  url = '';
  private server: Server | undefined;

  constructor(
    private readonly bundles: Map<string, Buffer>,
    private readonly token = DOWNLOAD_TOKEN,
  ) {}

  /** A server for these bundles, each at its artifactPath. */
  static offering(...bundles: BundleFile[]): BundleServer {
    return new BundleServer(new Map(bundles.map((bundle) => [artifactPath(bundle), bundle.bytes])));
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const range = req.headers.range;
      const request: BundleRequest = {
        url: req.url ?? '',
        range,
        authorized: req.headers.authorization === `Bearer ${this.token}`,
        sent: 0,
      };
      this.requests.push(request);
      if (!request.authorized) return void res.writeHead(401).end();
      const body = this.bundles.get(request.url);
      if (!body) return void res.writeHead(404).end();
      const match = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
      let payload = body;
      if (!match) {
        res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
      } else {
        const start = Number(match[1]);
        const end = match[2] ? Math.min(Number(match[2]), body.length - 1) : body.length - 1;
        if (start >= body.length) {
          return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        }
        payload = body.subarray(start, end + 1);
        res.writeHead(206, {
          'content-length': payload.length,
          'content-range': `bytes ${start}-${end}/${body.length}`,
          'accept-ranges': 'bytes',
        });
      }
      let offset = 0;
      const pump = () => {
        if (res.destroyed) return;
        const throttle = this.throttle;
        const slice = payload.subarray(offset, throttle ? offset + throttle.bytesPerTick : payload.length);
        offset += slice.length;
        request.sent += slice.length;
        if (offset >= payload.length) return void res.end(slice);
        res.write(slice);
        setTimeout(pump, throttle?.tickMs ?? 0);
      };
      pump();
    });
    this.server = server;
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests for one bundle path. */
  requestsFor(path: string): BundleRequest[] {
    return this.requests.filter((request) => request.url === path);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

// ---------------------------------------------------------------- the fleet's side of an update

/** `spec.update` as the fleet service composes it, for a bundle served at `/artifacts/<version>.tar.gz`. */
export function updateOffer(
  keys: FleetKeys,
  server: BundleServer,
  bundle: BundleFile,
  rolloutId: string,
  policy: Partial<UpdateOffer['policy']> = {},
): UpdateOffer {
  return {
    rolloutId,
    release: keys.sign(bundle),
    roots: [],
    url: `${server.url}${artifactPath(bundle)}`,
    downloadToken: DOWNLOAD_TOKEN,
    policy: { force: false, maxWaitSec: 0, healthDeadlineSec: 120, ...policy },
  };
}

export function artifactPath(bundle: BundleFile): string {
  return `/artifacts/${bundle.version}.tar.gz`;
}

/** One box as the fleet sees it over MQTT: its desired state (retained) and what it reports. */
export class FleetView {
  deviceId = '';
  private desiredVersion = 0;

  constructor(private readonly fleet: FakeFleet) {}

  /** A newer retained desired state carrying `spec.update` (undefined: the offer is withdrawn). */
  async desire(update: UpdateOffer | undefined): Promise<void> {
    this.desiredVersion += 1;
    await this.fleet.publish(
      topics.desired(this.deviceId),
      {
        v: 1,
        version: this.desiredVersion,
        ts: Date.now(),
        spec: { telemetry: { intervalSec: 2 }, ...(update ? { update } : {}) },
      },
      { retain: true },
    );
  }

  /** Every `up/update` report of a rollout, in the order received. */
  updateReports(rolloutId: string): UpdateStatusReport[] {
    return this.fleet
      .messages(`${this.deviceId}/up/update`)
      .flatMap((message) => UpdateMessageSchema.parse(message.json).reports)
      .filter((report) => report.rolloutId === rolloutId);
  }

  statuses(rolloutId: string): string[] {
    return this.updateReports(rolloutId).map((report) => report.status);
  }

  /** `current.agentVersion` of every `up/state` received, in order. */
  reportedDeviceAgentVersions(): string[] {
    return this.fleet
      .messages(`${this.deviceId}/up/state`)
      .map((message) => ReportedStateMessageSchema.parse(message.json).current.agentVersion)
      .filter((version): version is string => typeof version === 'string');
  }
}
