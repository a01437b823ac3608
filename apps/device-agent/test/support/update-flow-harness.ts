import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { create } from 'tar';
import { generateKeyPair, signEnvelope, type KeyPair } from '@agentbox/ota';
import type {
  ReleaseManifest,
  RootMetadata,
  SignedRelease,
  SignedRoot,
  UpdateOffer,
  UpdateStatusReport,
} from '@agentbox/schemas';
import { readBootState, writeBootState, type BootState, type Slot } from '@agentbox/launcher/boot-state';
import { releaseTrust } from '../../src/modules/ota/release-trust.js';
import { UpdateFlow, type UpdateFlowOptions } from '../../src/modules/ota/update-flow.js';

export const DAY = 86_400_000;

export function bootState(path: string): BootState {
  const state = readBootState(path);
  if (!state) throw new Error(`no boot state at ${path}`);
  return state;
}
export const iso = (ms: number) => new Date(ms).toISOString();

export interface Served {
  url: string;
  server: Server;
  ranges: (string | undefined)[];
  bytesSent: number;
  /** Cut the next response after this many bytes. */
  cutAfter: number | undefined;
}

export async function serve(bundle: Buffer, token: string): Promise<Served> {
  const served: Served = {
    url: '',
    server: undefined as unknown as Server,
    ranges: [],
    bytesSent: 0,
    cutAfter: undefined,
  };
  served.server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(403).end();
      return;
    }
    served.ranges.push(req.headers.range);
    let start = 0;
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (match) start = Number(match[1]);
    const body = bundle.subarray(start);
    res.writeHead(match ? 206 : 200, {
      'content-length': body.length,
      ...(match ? { 'content-range': `bytes ${start}-${bundle.length - 1}/${bundle.length}` } : {}),
    });
    const cut = served.cutAfter;
    if (cut !== undefined) {
      served.cutAfter = undefined;
      served.bytesSent += cut;
      res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    served.bytesSent += body.length;
    res.end(body);
  });
  await new Promise<void>((resolve) => served.server.listen(0, '127.0.0.1', resolve));
  const address = served.server.address() as { port: number };
  served.url = `http://127.0.0.1:${address.port}/bundle.tar.gz`;
  return served;
}

export async function closeServed(served: Served): Promise<void> {
  served.server.closeAllConnections();
  await new Promise((resolve) => served.server.close(resolve));
}

export async function makeBundle(dir: string, version: string, extraBytes = 200_000): Promise<Buffer> {
  const src = join(dir, `bundle-src-${version}`);
  await mkdir(join(src, 'dist'), { recursive: true });
  await writeFile(join(src, 'package.json'), JSON.stringify({ name: '@agentbox/device-agent', version }));
  await writeFile(join(src, 'dist', 'main.js'), 'process.exit(0);\n');
  // Incompressible filler, so the download is long enough to cut midway.
  const filler = Buffer.alloc(extraBytes);
  for (let i = 0; i < filler.length; i += 32) createHash('sha256').update(String(i)).digest().copy(filler, i);
  await writeFile(join(src, 'dist', 'filler.bin'), filler);
  const out = join(dir, `bundle-${version}.tar.gz`);
  await create({ gzip: true, file: out, cwd: src, portable: true }, ['package.json', 'dist']);
  return readFile(out);
}

export function rootOf(
  version: number,
  rootKey: KeyPair,
  releaseKeys: KeyPair[],
  expires = Date.now() + 365 * DAY,
): RootMetadata {
  const keys: RootMetadata['keys'] = { [rootKey.keyid]: { type: 'ed25519', public: rootKey.publicKey } };
  for (const key of releaseKeys) keys[key.keyid] = { type: 'ed25519', public: key.publicKey };
  return {
    type: 'root',
    version,
    expires: iso(expires),
    keys,
    roles: {
      root: { keyids: [rootKey.keyid], threshold: 1 },
      release: { keyids: releaseKeys.map((key) => key.keyid), threshold: 1 },
    },
  };
}

export function release(
  bundle: Buffer,
  version: string,
  key: KeyPair,
  patch: Partial<ReleaseManifest> = {},
): SignedRelease {
  const manifest: ReleaseManifest = {
    type: 'release',
    version,
    channel: 'stable',
    createdAt: iso(Date.now()),
    expires: iso(Date.now() + 30 * DAY),
    artifact: {
      name: `agentbox-device-agent-${version}.tar.gz`,
      size: bundle.length,
      sha256: createHash('sha256').update(bundle).digest('hex'),
    },
    compatibility: { arch: ['x64', 'arm64'] },
    notes: '',
    rollbackTarget: false,
    ...patch,
  };
  return signEnvelope(manifest, [key.privateKeyPem]);
}

/**
 * A box laid out for the update flow, fresh for every test: slot a holding 1.0.0 active in boot.json,
 * a pinned root, a bundle of 1.1.0 served with Range by a local server, and the reports and restarts
 * the flow asks for collected.
 */
export class UpdateFlowHarness {
  dir!: string;
  bootPath!: string;
  served!: Served;
  bundle!: Buffer;
  rootKey!: KeyPair;
  releaseKey!: KeyPair;
  reports!: UpdateStatusReport[];
  restarts!: number;
  readonly token = 'download-token-0123456789';
  private readonly moreServed: Served[] = [];

  /** Lays the box out in `dir`, an empty directory of the test's own. */
  async setUp(dir: string): Promise<void> {
    this.dir = dir;
    this.bootPath = join(dir, 'boot.json');
    await mkdir(join(dir, 'slots', 'a', 'dist'), { recursive: true });
    await writeFile(
      join(dir, 'slots', 'a', 'slot.json'),
      JSON.stringify({ version: '1.0.0', installedAt: 1 }),
    );
    writeBootState(this.bootPath, { v: 1, active: 'a', pending: null, last: null });
    this.rootKey = generateKeyPair();
    this.releaseKey = generateKeyPair();
    await mkdir(join(dir, 'ota'), { recursive: true });
    await writeFile(join(dir, 'ota', 'root.json'), JSON.stringify(this.root(1, [this.releaseKey])));
    this.bundle = await makeBundle(dir, '1.1.0');
    this.served = await serve(this.bundle, this.token);
    this.reports = [];
    this.restarts = 0;
  }

  async tearDown(): Promise<void> {
    await closeServed(this.served);
    for (const served of this.moreServed.splice(0)) await closeServed(served);
  }

  /** Root metadata `version` listing `releaseKeys`, signed by the root key. */
  root(version: number, releaseKeys: KeyPair[]): SignedRoot {
    return signEnvelope(rootOf(version, this.rootKey, releaseKeys), [this.rootKey.privateKeyPem]);
  }

  /** The root the box trusts now (ota/root.json). */
  async pinnedRoot(): Promise<SignedRoot> {
    return JSON.parse(await readFile(join(this.dir, 'ota', 'root.json'), 'utf8')) as SignedRoot;
  }

  /** The boot state the launcher would read now. */
  bootState(): BootState {
    return bootState(this.bootPath);
  }

  /** The bundle's release `version`, signed by the release key the pinned root lists. */
  release(version: string, patch: Partial<ReleaseManifest> = {}): SignedRelease {
    return release(this.bundle, version, this.releaseKey, patch);
  }

  /** A bundle of `version` on a server of its own (closed at tear-down), and its signed release. */
  async serveRelease(version: string): Promise<{ signed: SignedRelease; url: string }> {
    const bundle = await makeBundle(this.dir, version);
    const served = await serve(bundle, this.token);
    this.moreServed.push(served);
    return { signed: release(bundle, version, this.releaseKey), url: served.url };
  }

  flow = (patch: Partial<UpdateFlowOptions> = {}) =>
    new UpdateFlow({
      stateDir: this.dir,
      bootStatePath: this.bootPath,
      runningSlot: 'a',
      currentVersion: '1.0.0',
      arch: 'x64',
      diskReserveBytes: 0,
      trust: releaseTrust,
      report: (report) => {
        this.reports.push(report);
        return Promise.resolve();
      },
      runsInProgress: () => 0,
      restart: () => {
        this.restarts += 1;
      },
      logger: { log: () => undefined, warn: () => undefined },
      pollMs: 20,
      progressIntervalMs: 0,
      downloadRetryDelayMs: () => 10,
      ...patch,
    });

  offer = (signed: SignedRelease, patch: Partial<UpdateOffer> = {}): UpdateOffer => ({
    rolloutId: 'r1',
    release: signed,
    roots: [],
    url: this.served.url,
    downloadToken: this.token,
    policy: { force: false, maxWaitSec: 600, healthDeadlineSec: 120 },
    ...patch,
  });

  /**
   * The device agent of `currentVersion` started again from `runningSlot`, with no update to take on: the reports
   * it sends at once (the reports collected so far are dropped first).
   */
  async reportsAtRestart(currentVersion: string, runningSlot: Slot): Promise<UpdateStatusReport[]> {
    this.reports = [];
    expect(await this.flow({ currentVersion, runningSlot }).recover(false)).toBe('none');
    return this.reports;
  }

  statuses = () =>
    this.reports.map((report) => `${report.status}${report.reason ? `:${report.reason}` : ''}`);

  /** Runs the flow on `o` to its end, which must be a refusal that left the inactive slot untouched. */
  rejectedWith = async (o: UpdateOffer, patch: Partial<UpdateFlowOptions> = {}) => {
    const sut = this.flow(patch);
    await sut.offer(o);
    await sut.idle();
    expect(this.restarts).toBe(0);
    await expect(stat(join(this.dir, 'slots', 'b'))).rejects.toThrow();
    expect(bootState(this.bootPath).pending).toBeNull();
    return this.reports.at(-1)!;
  };
}

/** A harness set up before and torn down after every test of the calling describe block. */
export function useUpdateFlowHarness(): UpdateFlowHarness {
  const harness = new UpdateFlowHarness();
  const dir = useTempDir('ota-flow-');
  beforeEach(() => harness.setUp(dir.path));
  afterEach(() => harness.tearDown());
  return harness;
}
