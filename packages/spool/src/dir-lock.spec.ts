import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { currentOwner, DirLockedError, LOCK_FILE, lockDir, processStartTime } from './dir-lock.js';

describe('lockDir', () => {
  const dir = useTempDir('agentbox-lock-');

  async function writeLock(owner: object | string): Promise<void> {
    await writeFile(join(dir.path, LOCK_FILE), typeof owner === 'string' ? owner : JSON.stringify(owner));
  }

  it('writes who holds it and removes the file on release', async () => {
    const release = await lockDir(dir.path);
    const owner = JSON.parse(await readFile(join(dir.path, LOCK_FILE), 'utf8'));
    expect(owner).toEqual(await currentOwner());
    expect(owner.pid).toBe(process.pid);
    expect(await readdir(dir.path)).toEqual([LOCK_FILE]); // no temp file left behind
    await release();
    await release();
    expect(await readdir(dir.path)).toEqual([]);
  });

  it('refuses a second lock in the same process until released', async () => {
    const release = await lockDir(dir.path);
    await expect(lockDir(dir.path)).rejects.toBeInstanceOf(DirLockedError);
    await release();
    const again = await lockDir(dir.path);
    await again();
  });

  it('refuses a lock held by another live process', async () => {
    const me = await currentOwner();
    const parent = { pid: process.ppid, bootId: me.bootId, startTime: await processStartTime(process.ppid) };
    await writeLock(parent);
    await expect(lockDir(dir.path)).rejects.toMatchObject({ owner: { pid: process.ppid } });
  });

  it('takes over a lock whose process is gone', async () => {
    const done = spawnSync(process.execPath, ['-e', '0']);
    expect(done.pid).toBeGreaterThan(0);
    await writeLock({ pid: done.pid });
    const release = await lockDir(dir.path);
    expect(JSON.parse(await readFile(join(dir.path, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await release();
  });

  it('takes over a lock whose pid was reused by another process or from another boot', async () => {
    const me = await currentOwner();
    await writeLock({ pid: process.ppid, bootId: me.bootId, startTime: '1' });
    await (
      await lockDir(dir.path)
    )();
    await writeLock({ pid: process.ppid, bootId: 'another-boot' });
    await (
      await lockDir(dir.path)
    )();
    await writeLock({ pid: process.pid, bootId: me.bootId, startTime: '1' });
    await (
      await lockDir(dir.path)
    )();
  });

  it('takes over a lock file it cannot make sense of', async () => {
    await writeLock('');
    await (
      await lockDir(dir.path)
    )();
    await writeLock('{"pid":"x"}');
    await (
      await lockDir(dir.path)
    )();
  });
});

describe('processStartTime', () => {
  it('reads field 22 even when the command name holds spaces and parentheses', async () => {
    const proc = await mkdtemp(join(tmpdir(), 'agentbox-proc-'));
    try {
      await mkdir(join(proc, '42'));
      const after = ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 4)), '777777', '23', '24'];
      await writeFile(join(proc, '42', 'stat'), `42 (evil) (name x) ${after.join(' ')}\n`);
      expect(await processStartTime(42, proc)).toBe('777777');
      expect(await processStartTime(43, proc)).toBeUndefined();
    } finally {
      await rm(proc, { recursive: true, force: true });
    }
  });

  it('reads this process', async () => {
    // Linux only (these tests run there): /proc/<pid>/stat always has a start time.
    expect(await processStartTime(process.pid)).toMatch(/^\d+$/);
  });
});
