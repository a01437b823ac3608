import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePrivateDir, restrictToOwner } from '../../common/private-files.js';

export const SECRETS_KEY_FILE = 'secrets.key';

function decode(base64: string, origin: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${origin} must hold base64 of 32 bytes`);
  return key;
}

/**
 * The at-rest key for provider secrets: AGENTBOX_SECRETS_KEY, else one generated on first start into
 * <dataDir>/secrets.key (mode 0600). A generated key only suits one replica: several replicas sharing
 * a PostgreSQL database must be given the same key through the environment.
 */
export function loadSecretsKey(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return decode(configured, 'AGENTBOX_SECRETS_KEY');
  const path = join(dataDir, SECRETS_KEY_FILE);
  try {
    const key = decode(readFileSync(path, 'utf8'), path);
    restrictToOwner(path);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  makePrivateDir(dataDir);
  const key = randomBytes(32);
  // 'wx' fails if another process created it meanwhile; then use theirs.
  try {
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return decode(readFileSync(path, 'utf8'), path);
    throw error;
  }
  chmodSync(path, 0o600);
  return key;
}
