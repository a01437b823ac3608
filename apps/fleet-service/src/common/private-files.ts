import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

/** Mode of every file the service keeps data or secrets in: the service's user only. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of every directory the service creates for them. */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` and any missing parent with mode 0700. A directory that exists keeps its mode: it
 * was made by an operator, who chose it.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Makes `path` a file only its owner may read or write: created empty with mode 0600 when missing
 * (so whatever writes it next, SQLite included, never makes it readable by others first), and
 * brought to 0600 when an earlier version left it readable.
 */
export function makePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/**
 * Brings an existing file an earlier version left readable by others to 0600. Best effort: a file
 * on a read-only mount, or owned by someone else, is left as it is.
 */
export function restrictToOwner(path: string): void {
  try {
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, PRIVATE_FILE_MODE);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM' && code !== 'EROFS') throw error;
  }
}

/**
 * Before SQLite opens `databasePath`: the database made private (SQLite creates its `-wal` and
 * `-shm` files with the mode of the database file), and the ones a previous run left brought to 0600.
 */
export function makePrivateSqliteFiles(databasePath: string): void {
  makePrivateFile(databasePath);
  for (const suffix of ['-wal', '-shm', '-journal']) restrictToOwner(`${databasePath}${suffix}`);
}
