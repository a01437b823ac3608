import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './temp-dir.js';

describe('useTempDir', () => {
  describe('per test', () => {
    const sut = useTempDir('agentbox-temp-dir-spec-');
    const seen: string[] = [];

    it('gives each test an empty directory of its own, named after the prefix', async () => {
      expect(basename(sut.path)).toMatch(/^agentbox-temp-dir-spec-/);
      await writeFile(join(sut.path, 'left-behind'), 'x');
      seen.push(sut.path);
    });

    it('removes it, with what the test wrote, once the test is done', () => {
      expect(sut.path).not.toBe(seen[0]);
      expect(existsSync(seen[0]!)).toBe(false);
      expect(existsSync(sut.path)).toBe(true);
    });
  });

  describe('per suite', () => {
    const sut = useTempDir('agentbox-temp-dir-spec-', { per: 'suite' });
    const seen: string[] = [];

    it('keeps one directory for every test of the block', () => {
      seen.push(sut.path);
    });

    it('is the same in the next test', () => {
      expect(sut.path).toBe(seen[0]);
      expect(existsSync(sut.path)).toBe(true);
    });
  });

  describe('before its tests run', () => {
    const sut = useTempDir('agentbox-temp-dir-spec-');
    let early: unknown;
    try {
      early = sut.path;
    } catch (error) {
      early = error;
    }

    it('refuses to be read', () => {
      expect(early).toBeInstanceOf(Error);
      expect((early as Error).message).toContain('exists only while its tests run');
    });
  });
});
