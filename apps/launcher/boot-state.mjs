// @ts-check
// Boot state of a box with two slots: `<stateDir>/boot.json` plus `<stateDir>/slots/<a|b>/slot.json`.
// Plain dependency-free JavaScript on purpose: the launcher imports it, and the launcher must never break.
// Every write goes through writeBootState (temp file + fsync + rename + fsync of the directory), so after a
// power loss boot.json is either the old or the new content, never a torn mix.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import process from 'node:process';

export const BOOT_STATE_FILE = 'boot.json';
export const SLOT_FILE = 'slot.json';
/** @type {readonly ['a', 'b']} */
export const SLOTS = ['a', 'b'];
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_DEADLINE_SEC = 120;
/** The device agent exits with this code to be started again at once (into the pending slot, if any). */
export const EXIT_RESTART = 75;
/**
 * Every reason the launcher writes as `last.reason` or `pending.lastFailure.reason` when a pending slot fails:
 * all in ROLLBACK_REASONS of @agentbox/schemas, which the device agent reports (test/rollback-reasons.spec.ts).
 */
export const LAUNCHER_ROLLBACK_REASONS = Object.freeze({
  crashed: 'crashed',
  timeout: 'timeout',
  watchdog: 'watchdog',
  unpackFailed: 'unpack-failed',
});

/** Raised for a boot.json that exists but cannot be trusted, and for refused transitions. */
export class BootStateError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'BootStateError';
  }
}

/** @param {string} stateDir */
export function bootStatePathOf(stateDir) {
  return join(stateDir, BOOT_STATE_FILE);
}

/** @param {string} bootStatePath @param {'a' | 'b'} slot */
export function slotDirOf(bootStatePath, slot) {
  return join(dirname(bootStatePath), 'slots', slot);
}

/** @param {'a' | 'b'} slot @returns {'a' | 'b'} */
export function otherSlot(slot) {
  return slot === 'a' ? 'b' : 'a';
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** @param {unknown} value @returns {value is 'a' | 'b'} */
function isSlot(value) {
  return value === 'a' || value === 'b';
}

/** @param {unknown} value @returns {value is number} */
function isCount(value) {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** @param {unknown} value */
function isOptionalString(value) {
  return value === undefined || value === null || typeof value === 'string';
}

/**
 * Validates parsed boot.json content; throws BootStateError naming the first problem.
 * Unknown extra fields are kept, so a newer device agent may add some without breaking an older launcher.
 * @param {unknown} raw
 * @returns {import('./types/boot-state.mjs').BootState}
 */
export function parseBootState(raw) {
  if (!isObject(raw)) throw new BootStateError('boot state is not a JSON object');
  if (raw.v !== 1) throw new BootStateError(`unsupported boot state version ${JSON.stringify(raw.v)}`);
  if (!isSlot(raw.active)) throw new BootStateError('boot state has no valid "active" slot');
  const pending = raw.pending ?? null;
  if (pending !== null) {
    if (!isObject(pending)) throw new BootStateError('"pending" is not an object');
    if (!isSlot(pending.slot)) throw new BootStateError('"pending.slot" is not a or b');
    if (pending.slot === raw.active) throw new BootStateError('"pending.slot" is the active slot');
    if (typeof pending.version !== 'string' || pending.version === '')
      throw new BootStateError('"pending.version" is missing');
    if (!isOptionalString(pending.rolloutId)) throw new BootStateError('"pending.rolloutId" is not a string');
    if (!isCount(pending.attempts)) throw new BootStateError('"pending.attempts" is not a count');
    if (!isCount(pending.maxAttempts) || pending.maxAttempts < 1)
      throw new BootStateError('"pending.maxAttempts" must be at least 1');
    if (typeof pending.deadlineSec !== 'number' || !(pending.deadlineSec > 0))
      throw new BootStateError('"pending.deadlineSec" must be positive');
    if (!isCount(pending.since)) throw new BootStateError('"pending.since" is not a time');
  }
  const last = raw.last ?? null;
  if (last !== null) {
    if (!isObject(last)) throw new BootStateError('"last" is not an object');
    if (last.result !== 'committed' && last.result !== 'rolled-back')
      throw new BootStateError('"last.result" is neither committed nor rolled-back');
    if (!isSlot(last.slot)) throw new BootStateError('"last.slot" is not a or b');
    if (typeof last.version !== 'string') throw new BootStateError('"last.version" is missing');
    if (!isCount(last.at)) throw new BootStateError('"last.at" is not a time');
  }
  return /** @type {import('./types/boot-state.mjs').BootState} */ ({ ...raw, pending, last });
}

/**
 * Reads boot.json. Returns null when it does not exist; throws BootStateError when it is unreadable,
 * not JSON or not a valid boot state (callers decide how to fall back: see recoverBootState).
 * @param {string} bootStatePath
 */
export function readBootState(bootStatePath) {
  let text;
  try {
    text = readFileSync(bootStatePath, 'utf8');
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return null;
    throw new BootStateError(`cannot read ${bootStatePath}: ${/** @type {Error} */ (error).message}`);
  }
  /** @type {unknown} */
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new BootStateError(`${bootStatePath} is not JSON: ${/** @type {Error} */ (error).message}`);
  }
  return parseBootState(raw);
}

/**
 * Writes a file so that a crash leaves either the old or the new content: temp file in the same directory,
 * fsync, rename over the target, fsync of the directory (which makes the rename itself durable).
 * @param {string} path
 * @param {string} content
 */
export function writeFileAtomic(path, content) {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // The temp file is only clutter; the rename error is what matters.
    }
    throw error;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * Validates and writes the boot state atomically.
 * @param {string} bootStatePath
 * @param {import('./types/boot-state.mjs').BootState} state
 */
export function writeBootState(bootStatePath, state) {
  const valid = parseBootState(state);
  writeFileAtomic(bootStatePath, `${JSON.stringify(valid, null, 2)}\n`);
  return valid;
}

/**
 * Removes temp files a crash may have left next to boot.json (they are never read).
 * @param {string} bootStatePath
 */
export function removeStaleTempFiles(bootStatePath) {
  const dir = dirname(bootStatePath);
  const prefix = `.${basename(bootStatePath)}.`;
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // Another writer may have renamed it already.
      }
    }
  }
}

/**
 * The slot's slot.json, or null when the slot is missing, has no valid slot.json or no dist/main.js.
 * @param {string} bootStatePath
 * @param {'a' | 'b'} slot
 * @returns {import('./types/boot-state.mjs').SlotInfo | null}
 */
export function readSlotInfo(bootStatePath, slot) {
  const dir = slotDirOf(bootStatePath, slot);
  try {
    const raw = /** @type {unknown} */ (JSON.parse(readFileSync(join(dir, SLOT_FILE), 'utf8')));
    if (!isObject(raw) || typeof raw.version !== 'string' || raw.version === '') return null;
    const installedAt =
      typeof raw.installedAt === 'number' ? raw.installedAt : Date.parse(String(raw.installedAt));
    if (!Number.isFinite(installedAt)) return null;
    if (!existsSync(join(dir, 'dist', 'main.js'))) return null;
    return { ...raw, version: raw.version, installedAt };
  } catch {
    return null;
  }
}

/**
 * Writes `<slotDir>/slot.json` atomically; call it last, once the slot's files are all in place.
 * @param {string} slotDir
 * @param {import('./types/boot-state.mjs').SlotInfo} info
 */
export function writeSlotInfo(slotDir, info) {
  writeFileAtomic(join(slotDir, SLOT_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

/**
 * The boot state to use when boot.json is missing or corrupt: the usable slot installed first becomes active.
 * Slots are only ever written while inactive, so the older one was the active slot when the newer one was
 * installed, i.e. a version that had booted and been committed; the newer one may be an unproven update.
 * Returns null when no slot is usable.
 * @param {string} bootStatePath
 * @returns {import('./types/boot-state.mjs').BootState | null}
 */
export function fallbackBootState(bootStatePath) {
  /** @type {{ slot: 'a' | 'b', installedAt: number }[]} */
  const usable = [];
  for (const slot of SLOTS) {
    const info = readSlotInfo(bootStatePath, slot);
    if (info) usable.push({ slot, installedAt: info.installedAt });
  }
  usable.sort((x, y) => x.installedAt - y.installedAt || x.slot.localeCompare(y.slot));
  const chosen = usable[0];
  if (!chosen) return null;
  return { v: 1, active: chosen.slot, pending: null, last: null };
}

/**
 * Reads boot.json, or rebuilds it from the slots when it is missing or corrupt (the damaged file is kept as
 * `boot.json.corrupt-<ms>` for diagnosis) and persists the rebuilt state.
 * Returns `{ state: null }` when there is no usable slot at all.
 * @param {string} bootStatePath
 * @param {{ now?: number }} [options]
 * @returns {{ state: import('./types/boot-state.mjs').BootState | null, recovered: string | null }}
 */
export function recoverBootState(bootStatePath, options = {}) {
  const now = options.now ?? Date.now();
  let problem;
  try {
    const state = readBootState(bootStatePath);
    if (state) return { state, recovered: null };
    problem = `${bootStatePath} does not exist`;
  } catch (error) {
    problem = /** @type {Error} */ (error).message;
    try {
      renameSync(bootStatePath, `${bootStatePath}.corrupt-${now}`);
    } catch {
      // Keeping the damaged copy is a courtesy; recovery goes on without it.
    }
  }
  const state = fallbackBootState(bootStatePath);
  if (state) writeBootState(bootStatePath, state);
  return { state, recovered: problem };
}

/**
 * Marks an installed slot pending: the launcher boots it next (after the running agent exits, e.g. with 75).
 * Refuses the active slot and a slot without a valid slot.json and dist/main.js.
 * @param {string} bootStatePath
 * @param {{ slot: 'a' | 'b', version: string, rolloutId?: string | null, maxAttempts?: number, deadlineSec?: number, now?: number }} request
 */
export function setPendingSlot(bootStatePath, request) {
  const current = readBootState(bootStatePath);
  if (!current)
    throw new BootStateError(`${bootStatePath} does not exist: the box is not installed with slots`);
  if (request.slot === current.active) throw new BootStateError(`slot ${request.slot} is the active slot`);
  const info = readSlotInfo(bootStatePath, request.slot);
  if (!info) throw new BootStateError(`slot ${request.slot} has no valid slot.json and dist/main.js`);
  if (info.version !== request.version)
    throw new BootStateError(`slot ${request.slot} holds ${info.version}, not ${request.version}`);
  return writeBootState(bootStatePath, {
    ...current,
    pending: {
      slot: request.slot,
      version: request.version,
      rolloutId: request.rolloutId ?? null,
      attempts: 0,
      maxAttempts: request.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      deadlineSec: request.deadlineSec ?? DEFAULT_DEADLINE_SEC,
      since: request.now ?? Date.now(),
    },
  });
}

/**
 * Makes the pending slot the active one; called by the device agent of the new version once it is healthy.
 * With `slot` (pass AGENTBOX_SLOT), refuses to commit a slot other than the caller's own.
 * @param {string} bootStatePath
 * @param {{ slot?: 'a' | 'b', now?: number }} [options]
 */
export function commitPendingSlot(bootStatePath, options = {}) {
  const current = readBootState(bootStatePath);
  if (!current) throw new BootStateError(`${bootStatePath} does not exist`);
  const pending = current.pending;
  if (!pending) throw new BootStateError('there is no pending slot to commit');
  if (options.slot !== undefined && options.slot !== pending.slot)
    throw new BootStateError(`slot ${options.slot} is running, but slot ${pending.slot} is pending`);
  return writeBootState(bootStatePath, {
    ...current,
    active: pending.slot,
    pending: null,
    last: {
      result: 'committed',
      slot: pending.slot,
      version: pending.version,
      rolloutId: pending.rolloutId ?? null,
      attempts: pending.attempts,
      at: options.now ?? Date.now(),
    },
  });
}

/**
 * The boot state after giving up on the pending slot: the active (old) slot stays, nothing is pending, and
 * `last` records the rollback and why. The launcher writes it when the slot keeps crashing or misses its
 * deadline, the device agent when its health check fails.
 * @param {import('./types/boot-state.mjs').BootState} state
 * @param {{ reason: import('./types/boot-state.mjs').RollbackReason, detail: string, at: number }} why
 * @returns {import('./types/boot-state.mjs').BootState}
 */
export function rolledBackState(state, why) {
  const pending = state.pending;
  if (!pending) throw new BootStateError('there is no pending slot to roll back');
  return {
    ...state,
    pending: null,
    last: {
      result: 'rolled-back',
      slot: pending.slot,
      version: pending.version,
      rolloutId: pending.rolloutId ?? null,
      reason: why.reason,
      detail: why.detail,
      attempts: pending.attempts,
      at: why.at,
    },
  };
}

/**
 * Records that the device agent has reported `last` (so it reports a rollback or commit once).
 * @param {string} bootStatePath
 * @param {{ now?: number }} [options]
 */
export function markLastReported(bootStatePath, options = {}) {
  const current = readBootState(bootStatePath);
  if (!current?.last) throw new BootStateError('there is no last update result to mark');
  return writeBootState(bootStatePath, {
    ...current,
    last: { ...current.last, reportedAt: options.now ?? Date.now() },
  });
}
