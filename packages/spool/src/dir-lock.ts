import { link, open, readFile, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Who holds a lock: a pid alone is not enough, pids are reused (after a reboot, in containers). */
export interface LockOwner {
  pid: number;
  /** `/proc/sys/kernel/random/boot_id`; absent where there is no procfs. */
  bootId?: string;
  /** Start time of the process in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  startTime?: string;
}

export const LOCK_FILE = 'LOCK';

/** Locks held by this process, by real path: a second open in the same process is refused too. */
const held = new Set<string>();

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses. */
export async function processStartTime(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  const stat = await readTrimmed(join(procRoot, String(pid), 'stat'));
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

export async function currentOwner(): Promise<LockOwner> {
  const [bootId, startTime] = await Promise.all([
    readTrimmed('/proc/sys/kernel/random/boot_id'),
    processStartTime(process.pid),
  ]);
  return { pid: process.pid, ...(bootId ? { bootId } : {}), ...(startTime ? { startTime } : {}) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerAlive(owner: LockOwner, me: LockOwner): Promise<boolean> {
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) return false;
  if (owner.pid === me.pid) return owner.startTime === me.startTime;
  if (!pidAlive(owner.pid)) return false;
  if (owner.startTime === undefined) return true;
  const startTime = await processStartTime(owner.pid);
  return startTime === undefined || startTime === owner.startTime;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || !Number.isSafeInteger(o.pid) || o.pid <= 0) return undefined;
    return {
      pid: o.pid,
      ...(typeof o.bootId === 'string' ? { bootId: o.bootId } : {}),
      ...(typeof o.startTime === 'string' ? { startTime: o.startTime } : {}),
    };
  } catch {
    return undefined;
  }
}

export class DirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(owner ? `${dir} is in use by process ${owner.pid}` : `${dir} is already open in this process`);
    this.name = 'DirLockedError';
  }
}

/**
 * Takes `<dir>/LOCK` (exclusive create). A lock left by a dead process (kill -9, power cut) is
 * taken over. Returns the release function.
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const key = join(await realpath(dir), LOCK_FILE);
  if (held.has(key)) throw new DirLockedError(dir, undefined);
  const me = await currentOwner();
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    // Written whole under a private name, then hard-linked: link(2) fails if LOCK exists, and a
    // LOCK that exists is never half-written.
    const tmp = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(JSON.stringify(me));
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const text = await readTrimmed(path);
    // Unparsable content is not something lockDir writes: treat it as stale.
    const owner = text === undefined ? undefined : parseOwner(text);
    if (owner && (await ownerAlive(owner, me))) throw new DirLockedError(dir, owner);
    await unlink(path).catch(() => undefined);
  }
  held.add(key);
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    held.delete(key);
    await unlink(path).catch(() => undefined);
  };
}
