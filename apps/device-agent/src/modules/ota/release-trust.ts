import { lstat, mkdir } from 'node:fs/promises';
import { isAbsolute, normalize } from 'node:path';
import { sha256File, verifyRelease, verifyRootUpdate } from '@agentbox/ota';
import { extract } from 'tar';
import type { OtaTrust } from './ota-trust.js';

/** Only plain files and directories, inside the target: a bundle cannot plant links or escape its slot. */
function safeEntry(path: string, type: string): boolean {
  const normal = normalize(path);
  if (isAbsolute(normal) || normal === '..' || normal.startsWith('../')) return false;
  return type === 'File' || type === 'OldFile' || type === 'Directory';
}

async function unpackBundle(tarGz: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!(await lstat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
  const refused: string[] = [];
  await extract({
    file: tarGz,
    cwd: dir,
    strict: true,
    preservePaths: false,
    filter: (path, entry) => {
      const type = 'type' in entry ? entry.type : 'File';
      const ok = safeEntry(path, type);
      if (!ok) refused.push(`${path} (${type})`);
      return ok;
    },
  });
  if (refused.length > 0)
    throw new Error(`the bundle holds entries outside plain files: ${refused.slice(0, 3).join(', ')}`);
}

/** The checks of @agentbox/ota, in the shape the update flow uses. */
export const releaseTrust: OtaTrust = {
  verifyRoot(trusted, next, now) {
    const result = verifyRootUpdate(trusted, next, { now });
    return result.ok ? { ok: true, value: result.root } : result;
  },
  verifyRelease(release, root, context) {
    const result = verifyRelease(release, root, context);
    return result.ok ? { ok: true, value: result.manifest } : result;
  },
  sha256File,
  unpackBundle,
};
