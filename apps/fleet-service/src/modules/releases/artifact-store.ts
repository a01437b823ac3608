import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type ArtifactCheck =
  { ok: true; path: string } | { ok: false; reason: 'size-mismatch' | 'hash-mismatch'; detail: string };

class TooLarge extends Error {}

/**
 * Bytes past the announced size that are still read (and dropped) so the client gets its 400 answer; a
 * client sending more than this is cut off instead.
 */
const OVERRUN_DRAIN_BYTES = 1024 * 1024;

/**
 * Release bundles on disk, named by their sha256 (`<dir>/<sha256>.tar.gz`). An upload streams into a
 * temp file while it is hashed and counted, and only a bundle matching its manifest is renamed into
 * place: a refused or interrupted upload leaves nothing behind.
 */
export class ArtifactStore {
  constructor(readonly dir: string) {}

  pathOf(sha256: string): string {
    return join(this.dir, `${sha256}.tar.gz`);
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  /** Streams `body` to disk, refusing it as soon as it exceeds `expected.size` bytes. */
  async put(body: Readable, expected: { size: number; sha256: string }): Promise<ArtifactCheck> {
    const incoming = join(this.dir, '.incoming');
    await mkdir(incoming, { recursive: true });
    const temp = join(incoming, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const before = size;
        size += chunk.length;
        if (size > expected.size + OVERRUN_DRAIN_BYTES) {
          callback(new TooLarge());
          return;
        }
        if (size > expected.size) {
          // Keep the file at the announced size at most; the result is a size mismatch anyway.
          callback(null, before < expected.size ? chunk.subarray(0, expected.size - before) : undefined);
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(temp, { flags: 'wx', mode: 0o640 }));
      if (size !== expected.size) {
        return {
          ok: false,
          reason: 'size-mismatch',
          detail: `received ${size} bytes, the manifest says ${expected.size}`,
        };
      }
      const sha256 = hash.digest('hex');
      if (sha256 !== expected.sha256) {
        return {
          ok: false,
          reason: 'hash-mismatch',
          detail: `sha256 ${sha256} does not match the manifest's ${expected.sha256}`,
        };
      }
      const path = this.pathOf(sha256);
      await rename(temp, path);
      return { ok: true, path };
    } catch (error) {
      if (error instanceof TooLarge) {
        return {
          ok: false,
          reason: 'size-mismatch',
          detail: `more than the ${expected.size} bytes the manifest says`,
        };
      }
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}
