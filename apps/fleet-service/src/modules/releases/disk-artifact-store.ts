import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ArtifactMeter,
  ArtifactOverrun,
  ArtifactStore,
  artifactFileName,
  type ArtifactCheck,
  type OpenedArtifact,
} from './artifact-store.js';
import type { ByteRange } from './http-range.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../common/private-files.js';

/**
 * Release bundles on disk (`<dir>/<sha256>.tar.gz`). An upload streams into a temp file under
 * `<dir>/.incoming` while it is hashed and counted, and only a bundle matching its manifest is renamed
 * into place.
 */
export class DiskArtifactStore extends ArtifactStore {
  constructor(readonly dir: string) {
    super();
  }

  get description(): string {
    return `directory ${this.dir}`;
  }

  pathOf(sha256: string): string {
    return join(this.dir, artifactFileName(sha256));
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async put(body: Readable, expected: { size: number; sha256: string }): Promise<ArtifactCheck> {
    const incoming = join(this.dir, '.incoming');
    await mkdir(incoming, { recursive: true, mode: PRIVATE_DIR_MODE });
    const temp = join(incoming, `${randomUUID()}.part`);
    const meter = new ArtifactMeter(expected);
    try {
      await pipeline(body, meter, createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE_MODE }));
      const verdict = meter.verdict();
      if (verdict.ok) await rename(temp, this.pathOf(expected.sha256));
      return verdict;
    } catch (error) {
      if (error instanceof ArtifactOverrun) return ArtifactMeter.overrun(expected);
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  async open(sha256: string, range?: ByteRange): Promise<OpenedArtifact | null> {
    let handle;
    try {
      handle = await open(this.pathOf(sha256), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      // One descriptor for the size and the bytes, so a bundle deleted meanwhile is still read whole.
      const { size } = await handle.stat();
      return { body: handle.createReadStream(range ?? {}), size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}
