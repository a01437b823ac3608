import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { SEQUENCE_FILE, SequenceAllocator } from './sequence.allocator.js';

describe('SequenceAllocator', () => {
  const dir = useTempDir('agentbox-seq-');

  it('hands out strictly increasing numbers and persists the mark before using a new block', async () => {
    const sut = new SequenceAllocator(dir.path, 10);
    const seqs = Array.from({ length: 25 }, () => sut.next());
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const mark = JSON.parse(await readFile(join(dir.path, SEQUENCE_FILE), 'utf8')) as {
      reservedUpTo: number;
    };
    expect(mark.reservedUpTo).toBe(30);
  });

  it('never reuses a number after a crash (the instance vanishes without any shutdown)', () => {
    const handedOut: number[] = [];
    for (let run = 0; run < 5; run++) {
      // Each run uses some numbers and then "dies": no close, no flush, the object is simply dropped.
      const sut = new SequenceAllocator(dir.path, 7);
      for (let i = 0; i < 3 + run * 4; i++) handedOut.push(sut.next());
    }
    for (let i = 1; i < handedOut.length; i++) expect(handedOut[i]!).toBeGreaterThan(handedOut[i - 1]!);
    expect(new Set(handedOut).size).toBe(handedOut.length);
  });

  it('ignores a temp file left by a crash during a reservation', async () => {
    const first = new SequenceAllocator(dir.path, 100);
    const used = first.next();
    // A crash between writing the temp file and the rename leaves the old mark in place.
    await writeFile(join(dir.path, `.${SEQUENCE_FILE}.deadbeef.tmp`), '{"reservedUpTo": 5');
    const sut = new SequenceAllocator(dir.path, 100);
    expect(sut.next()).toBeGreaterThan(used);
    expect(sut.next()).toBe(101);
  });

  it('writes the mark with mode 0600 and leaves no temp files behind', async () => {
    const sut = new SequenceAllocator(dir.path, 2);
    for (let i = 0; i < 9; i++) sut.next();
    expect(await readdir(dir.path)).toEqual([SEQUENCE_FILE]);
    expect((await stat(join(dir.path, SEQUENCE_FILE))).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt mark instead of starting again at zero', async () => {
    await writeFile(join(dir.path, SEQUENCE_FILE), '{"reservedUpTo": -1}');
    expect(() => new SequenceAllocator(dir.path)).toThrow();
  });
});
