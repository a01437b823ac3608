import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBootState } from '@agentbox/launcher/boot-state';
import { useUpdateFlowHarness } from '../../../test/support/update-flow-harness.js';

describe('UpdateFlow', () => {
  const h = useUpdateFlowHarness();

  it('downloads, resumes a cut download with Range, installs into the inactive slot and marks it pending', async () => {
    h.served.cutAfter = Math.floor(h.bundle.length / 2);
    const sut = h.flow();
    await sut.offer(h.offer(h.release('1.1.0')));
    await sut.idle();

    expect(h.served.ranges).toEqual([undefined, `bytes=${Math.floor(h.bundle.length / 2)}-`]);
    expect(h.served.bytesSent).toBe(h.bundle.length);
    expect(h.statuses()).toEqual(
      expect.arrayContaining(['downloading', 'downloaded', 'installing', 'rebooting']),
    );
    expect(h.statuses().at(-1)).toBe('rebooting');
    expect(h.restarts).toBe(1);
    const slot = JSON.parse(await readFile(join(h.dir, 'slots', 'b', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(slot.version).toBe('1.1.0');
    const boot = h.bootState();
    expect(boot.active).toBe('a');
    expect(boot.pending).toMatchObject({ slot: 'b', version: '1.1.0', rolloutId: 'r1', attempts: 0 });
  });

  describe('kill -9 at each step: a new process resumes from the persisted state', () => {
    const signedOffer = () => h.offer(h.release('1.1.0'));

    const killedAt = async (
      step: 'verify' | 'download' | 'install' | 'switch',
      prepare?: () => Promise<void>,
    ) => {
      const o = signedOffer();
      // The first process got as far as persisting `step`, then died.
      const store = h.flow().store;
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
      const sut = h.flow();
      expect(await sut.recover(false)).toBe('resume');
      await sut.offer(o);
      await sut.idle();
      expect(h.restarts).toBe(1);
      expect(h.bootState().pending).toMatchObject({ slot: 'b', version: '1.1.0' });
      const slot = JSON.parse(await readFile(join(h.dir, 'slots', 'b', 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(slot.version).toBe('1.1.0');
    };

    it('during verify', () => killedAt('verify'));

    it('midway through the download: resumes with Range from the partial file', async () => {
      const half = Math.floor(h.bundle.length / 3);
      await killedAt('download', async () => {
        await mkdir(join(h.dir, 'ota', 'download'), { recursive: true });
        const sha = createHash('sha256').update(h.bundle).digest('hex');
        await writeFile(join(h.dir, 'ota', 'download', `${sha}.part`), h.bundle.subarray(0, half));
      });
      expect(h.served.ranges).toEqual([`bytes=${half}-`]);
      expect(h.served.bytesSent).toBe(h.bundle.length - half);
    });

    it('a partial file a power cut left corrupt: the resumed bundle fails its hash and is fetched again whole', async () => {
      const half = Math.floor(h.bundle.length / 3);
      await killedAt('download', async () => {
        await mkdir(join(h.dir, 'ota', 'download'), { recursive: true });
        const sha = createHash('sha256').update(h.bundle).digest('hex');
        // The size is right, the bytes are not: blocks the file system never wrote.
        await writeFile(join(h.dir, 'ota', 'download', `${sha}.part`), Buffer.alloc(half));
      });
      expect(h.served.ranges).toEqual([`bytes=${half}-`, undefined]);
      expect(h.served.bytesSent).toBe(h.bundle.length - half + h.bundle.length);
    });

    it('midway through unpacking: the half-written staging dir is wiped and the unpack redone', async () => {
      await killedAt('install', async () => {
        const sha = createHash('sha256').update(h.bundle).digest('hex');
        await mkdir(join(h.dir, 'ota', 'download'), { recursive: true });
        await writeFile(join(h.dir, 'ota', 'download', `${sha}.tar.gz`), h.bundle);
        await mkdir(join(h.dir, 'slots', '.b.staging', 'dist'), { recursive: true });
        await writeFile(join(h.dir, 'slots', '.b.staging', 'junk'), 'half');
      });
      expect(h.served.ranges).toEqual([]);
      await expect(stat(join(h.dir, 'slots', 'b', 'junk'))).rejects.toThrow();
    });

    it('before boot.json was marked pending', async () => {
      const sha = createHash('sha256').update(h.bundle).digest('hex');
      await killedAt('switch', async () => {
        await mkdir(join(h.dir, 'slots', 'b', 'dist'), { recursive: true });
        await writeFile(join(h.dir, 'slots', 'b', 'package.json'), JSON.stringify({ version: '1.1.0' }));
        await writeFile(join(h.dir, 'slots', 'b', 'dist', 'main.js'), 'process.exit(0);\n');
        await writeFile(
          join(h.dir, 'slots', 'b', 'slot.json'),
          JSON.stringify({ version: '1.1.0', installedAt: Date.now() }),
        );
        await mkdir(join(h.dir, 'ota', 'download'), { recursive: true });
        await writeFile(join(h.dir, 'ota', 'download', `${sha}.tar.gz`), h.bundle);
      });
      expect(h.served.ranges).toEqual([]);
    });

    it('after commit but before the healthy report: the next start reports healthy', async () => {
      const o = signedOffer();
      const sut0 = h.flow();
      await sut0.offer(o);
      await sut0.idle();
      const probation = h.flow({ currentVersion: '1.1.0', runningSlot: 'b' });
      expect(await probation.recover(true)).toBe('trial');
      // Killed right after the commit: boot.json is committed, state.json still says trial.
      const state = h.bootState();
      writeBootState(h.bootPath, {
        ...state,
        active: 'b',
        pending: null,
        last: { result: 'committed', slot: 'b', version: '1.1.0', at: Date.now() },
      });
      h.reports = [];
      expect(await h.flow({ currentVersion: '1.1.0', runningSlot: 'b' }).recover(false)).toBe('none');
      expect(h.statuses()).toEqual(['healthy']);
      expect(h.bootState().last?.reportedAt).toBeGreaterThan(0);
    });
  });
});
