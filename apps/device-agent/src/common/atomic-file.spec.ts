import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { ensurePrivateDir, writeFileAtomic } from './atomic-file.js';

describe('writeFileAtomic', () => {
  const dir = useTempDir('agentbox-atomic-');

  it('creates the file with the requested mode even under a permissive umask', async () => {
    const previous = process.umask(0);
    try {
      await writeFileAtomic(join(dir.path, 'secret.json'), '{"a":1}', 0o600);
    } finally {
      process.umask(previous);
    }
    expect((await stat(join(dir.path, 'secret.json'))).mode & 0o777).toBe(0o600);
  });

  it('narrows the mode of a file that existed with wider bits', async () => {
    const path = join(dir.path, 'secret.json');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new', 0o600);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe('new');
  });

  it('replaces the whole file and leaves no temp file', async () => {
    const path = join(dir.path, 'data.json');
    await writeFileAtomic(path, 'x'.repeat(100_000));
    await writeFileAtomic(path, 'short');
    expect(await readFile(path, 'utf8')).toBe('short');
    expect(await readdir(dir.path)).toEqual(['data.json']);
  });

  it('concurrent writers never produce a torn file', async () => {
    const path = join(dir.path, 'race.json');
    const bodies = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ writer: i, pad: 'y'.repeat(50_000) }),
    );
    await Promise.all(bodies.map((body) => writeFileAtomic(path, body)));
    expect(bodies).toContain(await readFile(path, 'utf8'));
    expect(await readdir(dir.path)).toEqual(['race.json']);
  });

  it('keeps the old content when the write fails', async () => {
    const path = join(dir.path, 'keep.json');
    await writeFileAtomic(path, 'old');
    await expect(writeFileAtomic(join(dir.path, 'missing-dir', 'keep.json'), 'new')).rejects.toThrow();
    expect(await readFile(path, 'utf8')).toBe('old');
  });
});

describe('ensurePrivateDir', () => {
  it('creates the directory 0700 and tightens an existing one', async () => {
    const base = await mkdtemp(join(tmpdir(), 'agentbox-dir-'));
    try {
      const sut = join(base, 'a', 'state');
      await ensurePrivateDir(sut);
      expect((await stat(sut)).mode & 0o777).toBe(0o700);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
