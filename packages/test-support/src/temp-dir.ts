import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

export interface TempDir {
  /** The directory; it exists inside the tests (and the hooks registered after useTempDir). */
  readonly path: string;
}

export interface TempDirOptions {
  /** `test` (the default): a fresh directory for every test; `suite`: one for all the tests of the block. */
  per?: 'test' | 'suite';
}

/**
 * A directory of its own under the system temp dir, named `<prefix>XXXXXX`, for the tests of the enclosing
 * describe block (or file), removed with everything in it once they are done.
 */
export function useTempDir(prefix: string, options: TempDirOptions = {}): TempDir {
  let path: string | undefined;
  const create = async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
  };
  const remove = async () => {
    if (path) await rm(path, { recursive: true, force: true });
    path = undefined;
  };
  if (options.per === 'suite') {
    beforeAll(create);
    afterAll(remove);
  } else {
    beforeEach(create);
    afterEach(remove);
  }
  return {
    get path() {
      if (path === undefined) throw new Error(`the temp dir ${prefix}* exists only while its tests run`);
      return path;
    },
  };
}
