import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import { readBootState, writeBootState, type BootState } from '@agentbox/launcher/boot-state';
import { releaseTrust } from './release-trust.js';
import { UpdateFlow, inWindow, type UpdateFlowOptions } from './update-flow.js';

const DAY = 86_400_000;

function bootState(path: string): BootState {
  const state = readBootState(path);
  if (!state) throw new Error(`no boot state at ${path}`);
  return state;
}
const iso = (ms: number) => new Date(ms).toISOString();

interface Served {
  url: string;
  server: Server;
  ranges: (string | undefined)[];
  bytesSent: number;
  /** Cut the next response after this many bytes. */
  cutAfter: number | undefined;
}

async function serve(bundle: Buffer, token: string): Promise<Served> {
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

async function makeBundle(dir: string, version: string, extraBytes = 200_000): Promise<Buffer> {
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

function rootOf(
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

function release(
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

describe('UpdateFlow', () => {
  let dir: string;
  let bootPath: string;
  let served: Served;
  let bundle: Buffer;
  let rootKey: KeyPair;
  let releaseKey: KeyPair;
  let reports: UpdateStatusReport[];
  let restarts: number;
  const token = 'download-token-0123456789';

  const flow = (patch: Partial<UpdateFlowOptions> = {}) =>
    new UpdateFlow({
      stateDir: dir,
      bootStatePath: bootPath,
      runningSlot: 'a',
      currentVersion: '1.0.0',
      arch: 'x64',
      diskReserveBytes: 0,
      trust: releaseTrust,
      report: (report) => {
        reports.push(report);
        return Promise.resolve();
      },
      runsInProgress: () => 0,
      restart: () => {
        restarts += 1;
      },
      logger: { log: () => undefined, warn: () => undefined },
      pollMs: 20,
      progressIntervalMs: 0,
      downloadRetryDelayMs: () => 10,
      ...patch,
    });

  const offer = (signed: SignedRelease, patch: Partial<UpdateOffer> = {}): UpdateOffer => ({
    rolloutId: 'r1',
    release: signed,
    roots: [],
    url: served.url,
    downloadToken: token,
    policy: { force: false, maxWaitSec: 600, healthDeadlineSec: 120 },
    ...patch,
  });

  const statuses = () =>
    reports.map((report) => `${report.status}${report.reason ? `:${report.reason}` : ''}`);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ota-flow-'));
    bootPath = join(dir, 'boot.json');
    await mkdir(join(dir, 'slots', 'a', 'dist'), { recursive: true });
    await writeFile(
      join(dir, 'slots', 'a', 'slot.json'),
      JSON.stringify({ version: '1.0.0', installedAt: 1 }),
    );
    writeBootState(bootPath, { v: 1, active: 'a', pending: null, last: null });
    rootKey = generateKeyPair();
    releaseKey = generateKeyPair();
    await mkdir(join(dir, 'ota'), { recursive: true });
    await writeFile(
      join(dir, 'ota', 'root.json'),
      JSON.stringify(signEnvelope(rootOf(1, rootKey, [releaseKey]), [rootKey.privateKeyPem])),
    );
    bundle = await makeBundle(dir, '1.1.0');
    served = await serve(bundle, token);
    reports = [];
    restarts = 0;
  });

  afterEach(async () => {
    served.server.closeAllConnections();
    await new Promise((resolve) => served.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads, resumes a cut download with Range, installs into the inactive slot and marks it pending', async () => {
    served.cutAfter = Math.floor(bundle.length / 2);
    const sut = flow();
    await sut.offer(offer(release(bundle, '1.1.0', releaseKey)));
    await sut.idle();

    expect(served.ranges).toEqual([undefined, `bytes=${Math.floor(bundle.length / 2)}-`]);
    expect(served.bytesSent).toBe(bundle.length);
    expect(statuses()).toEqual(
      expect.arrayContaining(['downloading', 'downloaded', 'installing', 'rebooting']),
    );
    expect(statuses().at(-1)).toBe('rebooting');
    expect(restarts).toBe(1);
    const slot = JSON.parse(await readFile(join(dir, 'slots', 'b', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(slot.version).toBe('1.1.0');
    const boot = bootState(bootPath);
    expect(boot.active).toBe('a');
    expect(boot.pending).toMatchObject({ slot: 'b', version: '1.1.0', rolloutId: 'r1', attempts: 0 });
  });

  it('as the pending version: commits once healthy and reports healthy; after a rollback the old version reports it', async () => {
    const signed = release(bundle, '1.1.0', releaseKey);
    const first = flow();
    await first.offer(offer(signed));
    await first.idle();

    const probation = flow({ currentVersion: '1.1.0', runningSlot: 'b' });
    expect(await probation.recover(true)).toBe('trial');
    let checks = 0;
    const outcome = await probation.trial(
      () => Promise.resolve({ ok: ++checks >= 3, detail: 'warming up' }),
      5_000,
    );
    expect(outcome).toBe('committed');
    const boot = bootState(bootPath);
    expect(boot).toMatchObject({
      active: 'b',
      pending: null,
      last: { result: 'committed', version: '1.1.0' },
    });
    expect(reports.at(-1)).toMatchObject({ status: 'healthy', runningVersion: '1.1.0' });

    // A second rollout whose version the launcher rolls back.
    const bundle2 = await makeBundle(dir, '1.2.0');
    const served2 = await serve(bundle2, token);
    try {
      const onB = flow({ currentVersion: '1.1.0', runningSlot: 'b' });
      await onB.offer(offer(release(bundle2, '1.2.0', releaseKey), { rolloutId: 'r2', url: served2.url }));
      await onB.idle();
      expect(bootState(bootPath).pending).toMatchObject({ slot: 'a', version: '1.2.0' });
      const state = bootState(bootPath);
      writeBootState(bootPath, {
        ...state,
        pending: null,
        last: {
          result: 'rolled-back',
          slot: 'a',
          version: '1.2.0',
          reason: 'timeout',
          detail: 'no commit in 120s',
          at: Date.now() + 1,
        },
      });
      reports = [];
      const back = flow({ currentVersion: '1.1.0', runningSlot: 'b' });
      expect(await back.recover(false)).toBe('none');
      expect(reports).toEqual([
        expect.objectContaining({
          rolloutId: 'r2',
          status: 'rolled-back',
          reason: 'timeout',
          runningVersion: '1.1.0',
        }),
      ]);
      // Reported once: another start does not report it again.
      expect(await flow({ currentVersion: '1.1.0', runningSlot: 'b' }).recover(false)).toBe('none');
      expect(reports).toHaveLength(1);
    } finally {
      served2.server.closeAllConnections();
      await new Promise((resolve) => served2.server.close(resolve));
    }
  });

  describe('a pending version that cannot prove healthy rolls itself back through boot.json', () => {
    const installPending = async () => {
      const first = flow();
      await first.offer(offer(release(bundle, '1.1.0', releaseKey)));
      await first.idle();
      expect(bootState(bootPath).pending).toMatchObject({ slot: 'b', version: '1.1.0' });
      const probation = flow({ currentVersion: '1.1.0', runningSlot: 'b' });
      expect(await probation.recover(true)).toBe('trial');
      return probation;
    };

    const expectRolledBack = async (detail: RegExp) => {
      const boot = bootState(bootPath);
      expect(boot).toMatchObject({
        active: 'a',
        pending: null,
        last: {
          result: 'rolled-back',
          slot: 'b',
          version: '1.1.0',
          rolloutId: 'r1',
          reason: 'health-check-failed',
        },
      });
      expect(boot.last?.detail).toMatch(detail);
      expect(boot.last?.reportedAt).toBeUndefined();
      expect(statuses()).not.toContain('healthy');
      // The launcher starts the old slot, which reports the rollback once, with the reason.
      reports = [];
      const old = flow({ currentVersion: '1.0.0', runningSlot: 'a' });
      expect(await old.recover(false)).toBe('none');
      expect(reports).toEqual([
        expect.objectContaining({
          rolloutId: 'r1',
          version: '1.1.0',
          status: 'rolled-back',
          reason: 'health-check-failed',
          runningVersion: '1.0.0',
        }),
      ]);
      expect(reports[0]!.detail).toMatch(detail);
      expect(bootState(bootPath).last?.reportedAt).toBeGreaterThan(0);
      expect(await flow({ currentVersion: '1.0.0', runningSlot: 'a' }).recover(false)).toBe('none');
      expect(reports).toHaveLength(1);
    };

    it('deadline passed without a healthy check: pending cleared, last says why', async () => {
      const sut = await installPending();
      let checks = 0;
      const outcome = await sut.trial(() => {
        checks += 1;
        return Promise.resolve({ ok: false, detail: 'not connected to the cloud' });
      }, 300);
      expect(outcome).toBe('rolled-back');
      expect(checks).toBeGreaterThan(1);
      await expectRolledBack(/not healthy within 0s: not connected to the cloud/);
    });

    it('a definitive failure rolls back at once, long before the deadline', async () => {
      const sut = await installPending();
      const started = Date.now();
      const outcome = await sut.trial(
        () => Promise.resolve({ ok: false, detail: 'state dir read-back differs', definitive: true }),
        60_000,
      );
      expect(outcome).toBe('rolled-back');
      expect(Date.now() - started).toBeLessThan(5_000);
      await expectRolledBack(/health check failed: state dir read-back differs/);
    });

    it('a shutdown during the probation decides nothing: the slot stays pending for the launcher', async () => {
      const sut = await installPending();
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 100);
      const outcome = await sut.trial(
        () => Promise.resolve({ ok: false, detail: 'warming up' }),
        60_000,
        abort.signal,
      );
      expect(outcome).toBe('stopped');
      expect(bootState(bootPath)).toMatchObject({
        active: 'a',
        pending: { slot: 'b', version: '1.1.0' },
        last: null,
      });
    });

    it('never rolls back a slot it does not run from', async () => {
      await installPending();
      const other = flow({ currentVersion: '1.1.0', runningSlot: 'a' });
      const outcome = await other.trial(() => Promise.resolve({ ok: false, detail: 'no' }), 50);
      expect(outcome).toBe('stopped');
      expect(bootState(bootPath).pending).toMatchObject({ slot: 'b' });
    });
  });

  describe('rejections leave the inactive slot untouched', () => {
    const rejectedWith = async (o: UpdateOffer, patch: Partial<UpdateFlowOptions> = {}) => {
      const sut = flow(patch);
      await sut.offer(o);
      await sut.idle();
      expect(restarts).toBe(0);
      await expect(stat(join(dir, 'slots', 'b'))).rejects.toThrow();
      expect(bootState(bootPath).pending).toBeNull();
      return reports.at(-1)!;
    };

    it('tampered bundle: hash-mismatch', async () => {
      const signed = release(bundle, '1.1.0', releaseKey);
      bundle.writeUInt8(bundle.readUInt8(bundle.length - 10) ^ 0xff, bundle.length - 10); // the server now serves different bytes
      expect(await rejectedWith(offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'hash-mismatch',
      });
    });

    it('signature by an unknown key', async () => {
      const report = await rejectedWith(offer(release(bundle, '1.1.0', generateKeyPair())));
      expect(report).toMatchObject({ status: 'rejected', reason: 'unknown-key' });
      expect(served.ranges).toEqual([]);
    });

    it('a key the newest root dropped: key-revoked, and the newer root is pinned', async () => {
      const newKey = generateKeyPair();
      const root2 = signEnvelope(rootOf(2, rootKey, [newKey]), [rootKey.privateKeyPem]) as SignedRoot;
      const root1 = JSON.parse(await readFile(join(dir, 'ota', 'root.json'), 'utf8')) as SignedRoot;
      const report = await rejectedWith(
        offer(release(bundle, '1.1.0', releaseKey), { roots: [root1, root2] }),
      );
      expect(report).toMatchObject({ status: 'rejected', reason: 'key-revoked' });
      const pinned = JSON.parse(await readFile(join(dir, 'ota', 'root.json'), 'utf8')) as SignedRoot;
      expect(pinned.signed.version).toBe(2);
    });

    it('expired metadata', async () => {
      const signed = release(bundle, '1.1.0', releaseKey, { expires: iso(Date.now() - DAY) });
      expect(await rejectedWith(offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'metadata-expired',
      });
    });

    it('a downgrade', async () => {
      const signed = release(bundle, '0.9.0', releaseKey);
      expect(await rejectedWith(offer(signed))).toMatchObject({ status: 'rejected', reason: 'downgrade' });
    });

    it('a release for another architecture', async () => {
      const signed = release(bundle, '1.1.0', releaseKey, { compatibility: { arch: ['arm64'] } });
      expect(await rejectedWith(offer(signed))).toMatchObject({
        status: 'rejected',
        reason: 'incompatible-arch',
      });
    });

    it('not enough disk, checked before any byte is downloaded', async () => {
      const report = await rejectedWith(offer(release(bundle, '1.1.0', releaseKey)), {
        statfs: () => Promise.resolve({ bavail: 10, bsize: 4096 }),
      });
      expect(report).toMatchObject({ status: 'rejected', reason: 'insufficient-disk' });
      expect(served.ranges).toEqual([]);
    });

    it('not running under the launcher', async () => {
      const report = await rejectedWith(offer(release(bundle, '1.1.0', releaseKey)), {
        bootStatePath: undefined,
      });
      expect(report.status).toBe('rejected');
      expect(report.detail).toMatch(/not installed with slots/);
    });
  });

  describe('kill -9 at each step: a new process resumes from the persisted state', () => {
    const signedOffer = () => offer(release(bundle, '1.1.0', releaseKey));

    const killedAt = async (
      step: 'verify' | 'download' | 'install' | 'switch',
      prepare?: () => Promise<void>,
    ) => {
      const o = signedOffer();
      // The first process got as far as persisting `step`, then died.
      const store = flow().store;
      await store.save({
        v: 1,
        rolloutId: o.rolloutId,
        version: '1.1.0',
        offer: o,
        step,
        fromVersion: '1.0.0',
        updatedAt: Date.now(),
        ...(step === 'install' || step === 'switch' ? { slot: 'b' as const } : {}),
      });
      await prepare?.();
      const sut = flow();
      expect(await sut.recover(false)).toBe('resume');
      await sut.offer(o);
      await sut.idle();
      expect(restarts).toBe(1);
      expect(bootState(bootPath).pending).toMatchObject({ slot: 'b', version: '1.1.0' });
      const slot = JSON.parse(await readFile(join(dir, 'slots', 'b', 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(slot.version).toBe('1.1.0');
    };

    it('during verify', () => killedAt('verify'));

    it('midway through the download: resumes with Range from the partial file', async () => {
      const half = Math.floor(bundle.length / 3);
      await killedAt('download', async () => {
        await mkdir(join(dir, 'ota', 'download'), { recursive: true });
        const sha = createHash('sha256').update(bundle).digest('hex');
        await writeFile(join(dir, 'ota', 'download', `${sha}.part`), bundle.subarray(0, half));
      });
      expect(served.ranges).toEqual([`bytes=${half}-`]);
      expect(served.bytesSent).toBe(bundle.length - half);
    });

    it('a partial file a power cut left corrupt: the resumed bundle fails its hash and is fetched again whole', async () => {
      const half = Math.floor(bundle.length / 3);
      await killedAt('download', async () => {
        await mkdir(join(dir, 'ota', 'download'), { recursive: true });
        const sha = createHash('sha256').update(bundle).digest('hex');
        // The size is right, the bytes are not: blocks the file system never wrote.
        await writeFile(join(dir, 'ota', 'download', `${sha}.part`), Buffer.alloc(half));
      });
      expect(served.ranges).toEqual([`bytes=${half}-`, undefined]);
      expect(served.bytesSent).toBe(bundle.length - half + bundle.length);
    });

    it('midway through unpacking: the half-written staging dir is wiped and the unpack redone', async () => {
      await killedAt('install', async () => {
        const sha = createHash('sha256').update(bundle).digest('hex');
        await mkdir(join(dir, 'ota', 'download'), { recursive: true });
        await writeFile(join(dir, 'ota', 'download', `${sha}.tar.gz`), bundle);
        await mkdir(join(dir, 'slots', '.b.staging', 'dist'), { recursive: true });
        await writeFile(join(dir, 'slots', '.b.staging', 'junk'), 'half');
      });
      expect(served.ranges).toEqual([]);
      await expect(stat(join(dir, 'slots', 'b', 'junk'))).rejects.toThrow();
    });

    it('before boot.json was marked pending', async () => {
      const sha = createHash('sha256').update(bundle).digest('hex');
      await killedAt('switch', async () => {
        await mkdir(join(dir, 'slots', 'b', 'dist'), { recursive: true });
        await writeFile(join(dir, 'slots', 'b', 'package.json'), JSON.stringify({ version: '1.1.0' }));
        await writeFile(join(dir, 'slots', 'b', 'dist', 'main.js'), 'process.exit(0);\n');
        await writeFile(
          join(dir, 'slots', 'b', 'slot.json'),
          JSON.stringify({ version: '1.1.0', installedAt: Date.now() }),
        );
        await mkdir(join(dir, 'ota', 'download'), { recursive: true });
        await writeFile(join(dir, 'ota', 'download', `${sha}.tar.gz`), bundle);
      });
      expect(served.ranges).toEqual([]);
    });

    it('after commit but before the healthy report: the next start reports healthy', async () => {
      const o = signedOffer();
      const sut0 = flow();
      await sut0.offer(o);
      await sut0.idle();
      const probation = flow({ currentVersion: '1.1.0', runningSlot: 'b' });
      expect(await probation.recover(true)).toBe('trial');
      // Killed right after the commit: boot.json is committed, state.json still says trial.
      const state = bootState(bootPath);
      writeBootState(bootPath, {
        ...state,
        active: 'b',
        pending: null,
        last: { result: 'committed', slot: 'b', version: '1.1.0', at: Date.now() },
      });
      reports = [];
      expect(await flow({ currentVersion: '1.1.0', runningSlot: 'b' }).recover(false)).toBe('none');
      expect(statuses()).toEqual(['healthy']);
      expect(bootState(bootPath).last?.reportedAt).toBeGreaterThan(0);
    });
  });

  it('waits for agent runs to finish before restarting, unless forced past maxWaitSec', async () => {
    let runs = 1;
    const sut = flow({ runsInProgress: () => runs });
    await sut.offer(offer(release(bundle, '1.1.0', releaseKey)));
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(restarts).toBe(0);
    expect(bootState(bootPath).pending).toBeNull();
    runs = 0;
    await sut.idle();
    expect(restarts).toBe(1);
  });

  describe('maintenance window (box local time)', () => {
    const at = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
    const windowed = (start: string, end: string) =>
      offer(release(bundle, '1.1.0', releaseKey), {
        policy: {
          maintenanceWindow: { start, end },
          force: false,
          maxWaitSec: 600,
          healthDeadlineSec: 120,
        },
      });
    const until = async (check: () => boolean) => {
      for (let i = 0; i < 500 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(check()).toBe(true);
    };

    it('inWindow: start inclusive, end exclusive, wrapping midnight, no window is always open', () => {
      expect(inWindow(undefined, at('12:00'))).toBe(true);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('01:59'))).toBe(false);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('02:00'))).toBe(true);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('03:59'))).toBe(true);
      expect(inWindow({ start: '02:00', end: '04:00' }, at('04:00'))).toBe(false);
      expect(inWindow({ start: '22:00', end: '04:00' }, at('23:30'))).toBe(true);
      expect(inWindow({ start: '22:00', end: '04:00' }, at('00:10'))).toBe(true);
      expect(inWindow({ start: '22:00', end: '04:00' }, at('12:00'))).toBe(false);
    });

    it('closed: downloads at once and stays at downloaded; unpacks and restarts once the window opens', async () => {
      let clock = at('10:00');
      const sut = flow({ minuteOfDay: () => clock });
      await sut.offer(windowed('02:00', '04:00'));
      await until(() => statuses().includes('downloaded'));
      // Many polls of a closed window: nothing installed, nothing pending, no restart.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(statuses().filter((status) => status !== 'downloading')).toEqual(['downloaded']);
      expect(reports.find((report) => report.status === 'downloaded')?.detail).toBe(
        'installs in the maintenance window 02:00-04:00 (box local time)',
      );
      expect((await sut.store.load())?.step).toBe('install');
      await expect(stat(join(dir, 'slots', 'b'))).rejects.toThrow();
      await expect(stat(join(dir, 'slots', '.b.staging'))).rejects.toThrow();
      expect(bootState(bootPath).pending).toBeNull();
      expect(restarts).toBe(0);
      expect(served.bytesSent).toBe(bundle.length);

      clock = at('02:00');
      await sut.idle();
      expect(restarts).toBe(1);
      expect(statuses().slice(-3)).toEqual(['downloaded', 'installing', 'rebooting']);
      expect(bootState(bootPath).pending).toMatchObject({ slot: 'b', version: '1.1.0' });
      expect(served.bytesSent).toBe(bundle.length);
    });

    it('a window wrapping midnight that is open: installs at once', async () => {
      const sut = flow({ minuteOfDay: () => at('23:30') });
      await sut.offer(windowed('22:00', '04:00'));
      await sut.idle();
      expect(restarts).toBe(1);
      expect(reports.find((report) => report.status === 'downloaded')?.detail).toBeUndefined();
    });

    it('a restart while waiting for the window: no new download, still waits, installs once open', async () => {
      let clock = at('05:00');
      const first = flow({ minuteOfDay: () => clock });
      await first.offer(windowed('02:00', '04:00'));
      await until(() => statuses().includes('downloaded'));
      await first.stop();
      reports = [];
      const second = flow({ minuteOfDay: () => clock });
      expect(await second.recover(false)).toBe('resume');
      await second.offer(windowed('02:00', '04:00'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(restarts).toBe(0);
      expect(bootState(bootPath).pending).toBeNull();
      clock = at('03:00');
      await second.idle();
      expect(restarts).toBe(1);
      expect(served.ranges).toEqual([undefined]);
      expect(statuses()).toEqual(['installing', 'rebooting']);
    });

    it('withdrawn while waiting for the window: canceled, the inactive slot never touched', async () => {
      const sut = flow({ minuteOfDay: () => at('12:00') });
      await sut.offer(windowed('02:00', '04:00'));
      await until(() => statuses().includes('downloaded'));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(statuses()).not.toContain('installing');
      await sut.offer(undefined);
      await sut.idle();
      expect(statuses().at(-1)).toBe('canceled:canceled');
      expect(restarts).toBe(0);
      await expect(stat(join(dir, 'slots', 'b'))).rejects.toThrow();
      await expect(stat(join(dir, 'ota', 'download'))).rejects.toThrow();
    });
  });

  it('forced: restarts after maxWaitSec even with a run in progress', async () => {
    const sut = flow({ runsInProgress: () => 1 });
    await sut.offer(
      offer(release(bundle, '1.1.0', releaseKey), {
        policy: { force: true, maxWaitSec: 0, healthDeadlineSec: 60 },
      }),
    );
    await sut.idle();
    expect(restarts).toBe(1);
  });
});
