import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';

export class FilePathRefused extends Error {
  override readonly name = 'FilePathRefused';
}

/** `<stateDir>/agents/<agentId>/files`: the only place an agent's file tools can reach. */
export function agentFilesDir(stateDir: string, agentId: string): string {
  return join(stateDir, 'agents', agentId, 'files');
}

/**
 * A sandbox directory for one agent. Paths are relative; `..` segments and absolute paths are
 * refused outright, and every path is resolved with realpath so a symlink (planted by anyone) that
 * points outside the sandbox is refused too.
 */
export class AgentFiles {
  constructor(private readonly root: string) {}

  async read(
    path: string,
    maxBytes: number,
  ): Promise<
    | { path: string; content: string; size: number; truncated: boolean }
    | { path: string; entries: { name: string; type: 'file' | 'directory' | 'other' }[] }
  > {
    const realRoot = await this.realRoot();
    const target = resolve(realRoot, checkRelative(path));
    let real: string;
    try {
      real = await realpath(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Error(`${path} does not exist`, { cause: error });
      throw error;
    }
    assertInside(realRoot, real, path);
    const stats = await lstat(real);
    if (stats.isDirectory()) {
      const entries = await readdir(real, { withFileTypes: true });
      return {
        path,
        entries: entries.slice(0, 1_000).map((entry) => ({
          name: entry.name,
          type: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : 'other',
        })),
      };
    }
    if (!stats.isFile()) throw new FilePathRefused(`${path} is not a regular file`);
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const size = (await handle.stat()).size;
      const buffer = Buffer.alloc(Math.min(size, maxBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return {
        path,
        content: buffer.subarray(0, bytesRead).toString('utf8'),
        size,
        truncated: size > bytesRead,
      };
    } finally {
      await handle.close();
    }
  }

  async write(path: string, content: string, maxBytes: number): Promise<{ path: string; bytes: number }> {
    const bytes = Buffer.byteLength(content);
    if (bytes > maxBytes) {
      throw new FilePathRefused(`the content is ${bytes} bytes; this agent may write at most ${maxBytes}`);
    }
    const realRoot = await this.realRoot();
    const target = resolve(realRoot, checkRelative(path));
    if (target === realRoot) throw new FilePathRefused('a file name is needed');
    const parent = dirname(target);
    // Check the deepest directory that exists before creating any: mkdir would follow a symlink.
    assertInside(realRoot, await realpath(await deepestExisting(parent)), path);
    await mkdir(parent, { recursive: true });
    assertInside(realRoot, await realpath(parent), path);
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isSymbolicLink())
      throw new FilePathRefused(`${path} is a symbolic link; it is not written`);
    if (existing && !existing.isFile()) throw new FilePathRefused(`${path} is not a regular file`);
    const handle = await open(
      target,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return { path, bytes };
  }

  private async realRoot(): Promise<string> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    return realpath(this.root);
  }
}

function checkRelative(path: string): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1_000) {
    throw new FilePathRefused('the path must be 1-1000 characters');
  }
  if (path.includes('\0')) throw new FilePathRefused('the path may not contain NUL');
  if (isAbsolute(path) || path.startsWith('\\') || /^[A-Za-z]:/.test(path)) {
    throw new FilePathRefused(
      `absolute paths are refused (${path}); use a path relative to the agent's files`,
    );
  }
  if (path.split(/[\\/]/).includes('..')) {
    throw new FilePathRefused(
      `paths with ".." are refused (${path}); the agent's files are its only directory`,
    );
  }
  return path;
}

function assertInside(realRoot: string, real: string, requested: string): void {
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new FilePathRefused(
      `${requested} leads outside the agent's files (through a symbolic link); refused`,
    );
  }
}

async function deepestExisting(path: string): Promise<string> {
  let current = path;
  for (;;) {
    try {
      await lstat(current);
      return current;
    } catch {
      const up = dirname(current);
      if (up === current) return current;
      current = up;
    }
  }
}
