#!/usr/bin/env node
// @ts-check
// AgentBox launcher: what systemd runs on a box. It starts the device agent of the active slot (or of the
// pending slot, counting boot attempts against a deadline), restarts it with a capped backoff, and rolls back
// to the active slot when a pending version does not commit. Dependency-free and small on purpose: a broken
// launcher cannot be fixed over the air. The file protocol is described in README.md next to this file.
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import process from 'node:process';
import {
  EXIT_RESTART,
  LAUNCHER_ROLLBACK_REASONS as REASON,
  bootStatePathOf,
  otherSlot,
  readBootState,
  readSlotInfo,
  recoverBootState,
  removeStaleTempFiles,
  rolledBackState,
  slotDirOf,
  writeBootState,
} from './boot-state.mjs';

/** sysexits(3): restarting cannot fix these (the unit lists them in RestartPreventExitStatus). */
const FATAL_EXIT_CODES = new Set([77, 78]);
const EX_CONFIG = 78;
/** systemd sends this on a missed watchdog (WatchdogSignal= in the unit); Node cannot catch SIGABRT. */
const WATCHDOG_SIGNAL = 'SIGUSR2';

/** @param {string} message */
function log(message) {
  process.stderr.write(`agentbox-launcher: ${message}\n`);
}

/** @param {string} name @param {number} fallback */
function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

function readOptions() {
  const args = process.argv.slice(2);
  const flag = args.indexOf('--state-dir');
  const fromArgs = flag >= 0 ? args[flag + 1] : undefined;
  const stateDir = resolve(fromArgs || process.env.AGENTBOX_STATE_DIR || '/var/lib/agentbox');
  return {
    stateDir,
    bootStatePath: bootStatePathOf(stateDir),
    backoffMs: envNumber('AGENTBOX_LAUNCHER_BACKOFF_MS', 1_000),
    backoffMaxMs: envNumber('AGENTBOX_LAUNCHER_BACKOFF_MAX_MS', 30_000),
    /** A run this long resets the backoff: the crash that follows is a new incident, not a loop. */
    stableMs: envNumber('AGENTBOX_LAUNCHER_STABLE_MS', 60_000),
    /** Between SIGTERM and SIGKILL when the launcher itself stops a child (deadline, shutdown). */
    killGraceMs: envNumber('AGENTBOX_LAUNCHER_KILL_GRACE_MS', 18_000),
  };
}

/** Best-effort WATCHDOG=1 while no child runs (backoff), so systemd does not take a wait for a hang. */
function pingWatchdog() {
  if (!process.env.NOTIFY_SOCKET || !process.env.WATCHDOG_USEC) return;
  execFile('systemd-notify', ['WATCHDOG=1'], { timeout: 5_000 }, () => undefined);
}

/** @param {number} ms @param {{ wake?: () => void }} stopper */
function sleep(ms, stopper) {
  if (ms <= 0) return Promise.resolve();
  return new Promise((done) => {
    const usec = Number(process.env.WATCHDOG_USEC);
    const ping = usec > 0 ? setInterval(pingWatchdog, Math.max(usec / 2_000, 100)) : undefined;
    pingWatchdog();
    const finish = () => {
      clearTimeout(timer);
      if (ping) clearInterval(ping);
      stopper.wake = undefined;
      done(undefined);
    };
    const timer = setTimeout(finish, ms);
    stopper.wake = finish;
  });
}

/** @param {{ code: number | null, signal: NodeJS.Signals | null }} exit */
function describeExit(exit) {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/**
 * The whole launcher; resolves with the exit code, or the signal to die of, once it is stopped.
 * @param {ReturnType<typeof readOptions>} options
 * @returns {Promise<number | NodeJS.Signals>}
 */
async function run(options) {
  const { bootStatePath } = options;
  /** @type {NodeJS.Signals | null} */
  let stopSignal = null;
  let watchdogFired = false;
  /** @type {import('node:child_process').ChildProcess | null} */
  let child = null;
  /** @type {{ wake?: () => void }} */
  const stopper = {};
  /** @type {NodeJS.Timeout | undefined} */
  let killTimer;

  /** SIGTERM to the agent, then SIGKILL to its whole process group (the agent's own run processes). */
  const terminate = (/** @type {NodeJS.Signals} */ signal) => {
    const current = child;
    if (!current?.pid) return;
    try {
      current.kill(signal);
    } catch {
      // Already gone.
    }
    clearTimeout(killTimer);
    killTimer = setTimeout(() => {
      try {
        if (current.pid) process.kill(-current.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, options.killGraceMs);
  };

  const onStop = (/** @type {NodeJS.Signals} */ signal) => {
    if (stopSignal) return;
    stopSignal = signal;
    log(`${signal}: stopping`);
    if (child) terminate(signal);
    stopper.wake?.();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on(WATCHDOG_SIGNAL, () => {
    log('systemd watchdog expired: killing the device agent');
    watchdogFired = true;
    stopSignal = 'SIGTERM';
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    stopper.wake?.();
  });

  let failures = 0;
  while (!stopSignal) {
    removeStaleTempFiles(bootStatePath);
    const { state, recovered } = recoverBootState(bootStatePath);
    if (recovered)
      log(`boot state unusable (${recovered}); recovered: active slot ${state?.active ?? 'none'}`);
    if (!state) {
      log(
        `no usable slot in ${join(options.stateDir, 'slots')} (a slot needs slot.json and dist/main.js); ` +
          'lay out the box with infra/box/install.sh',
      );
      return EX_CONFIG;
    }

    const pending = state.pending;
    if (pending) {
      if (!readSlotInfo(bootStatePath, pending.slot)) {
        rollBack(
          bootStatePath,
          REASON.unpackFailed,
          `slot ${pending.slot} has no valid slot.json and dist/main.js`,
        );
        continue;
      }
      if (pending.attempts >= pending.maxAttempts) {
        const failure = pending.lastFailure;
        rollBack(
          bootStatePath,
          failure?.reason ?? REASON.crashed,
          failure?.detail ??
            `boot attempt ${pending.attempts} of ${pending.maxAttempts} did not finish (power loss or the launcher was killed)`,
        );
        failures = 0;
        continue;
      }
      pending.attempts += 1;
      // Persisted before the start, so a power loss during this boot still counts it.
      writeBootState(bootStatePath, state);
    } else if (!readSlotInfo(bootStatePath, state.active)) {
      const other = otherSlot(state.active);
      if (!readSlotInfo(bootStatePath, other)) {
        log(`neither slot is usable (slot.json and dist/main.js); lay out the box with infra/box/install.sh`);
        return EX_CONFIG;
      }
      log(`active slot ${state.active} is not usable; switching to slot ${other}`);
      writeBootState(bootStatePath, { ...state, active: other });
      continue;
    }

    const slot = pending ? pending.slot : state.active;
    const slotDir = slotDirOf(bootStatePath, slot);
    /** @type {NodeJS.ProcessEnv} */
    const env = { ...process.env, AGENTBOX_SLOT: slot, AGENTBOX_BOOT_STATE: bootStatePath };
    // The agent is not the main PID systemd knows; without WATCHDOG_PID its sd_watchdog check applies to it.
    delete env.WATCHDOG_PID;
    delete env.AGENTBOX_BOOT_PENDING;
    delete env.AGENTBOX_BOOT_DEADLINE;
    const deadlineMs = pending ? pending.deadlineSec * 1_000 : 0;
    const startedAt = Date.now();
    if (pending) {
      env.AGENTBOX_BOOT_PENDING = '1';
      env.AGENTBOX_BOOT_DEADLINE = String(startedAt + deadlineMs);
      log(
        `starting pending slot ${slot} (${pending.version}), attempt ${pending.attempts} of ${pending.maxAttempts}, ` +
          `commit deadline ${pending.deadlineSec}s`,
      );
    } else {
      log(`starting slot ${slot}`);
    }

    let timedOut = false;
    const spawned = spawn(process.execPath, [join(slotDir, 'dist', 'main.js')], {
      cwd: slotDir,
      env,
      stdio: 'inherit',
      // Own process group, so a kill reaches the agent's run processes too; signals are forwarded by hand.
      detached: true,
    });
    child = spawned;
    const deadlineTimer = pending
      ? setTimeout(() => {
          let now;
          try {
            now = readBootState(bootStatePath);
          } catch {
            now = null;
          }
          if (now?.pending?.slot !== slot) return; // committed in time
          timedOut = true;
          log(`pending slot ${slot} did not commit within ${pending.deadlineSec}s: stopping it`);
          terminate('SIGTERM');
        }, deadlineMs)
      : undefined;
    /** @type {{ code: number | null, signal: NodeJS.Signals | null }} */
    const exit = await new Promise((done) => {
      spawned.once('error', (error) => {
        log(`cannot start slot ${slot}: ${error.message}`);
        done({ code: 127, signal: null });
      });
      spawned.once('exit', (code, signal) => done({ code, signal }));
    });
    child = null;
    clearTimeout(deadlineTimer);
    clearTimeout(killTimer);
    const ranMs = Date.now() - startedAt;

    let after;
    try {
      after = readBootState(bootStatePath);
    } catch {
      after = null; // recovered at the top of the loop
    }
    const uncommitted = pending !== null && after?.pending?.slot === slot;

    if (stopSignal && !watchdogFired) {
      if (uncommitted && after?.pending) {
        // A clean stop (shutdown, restart by an operator) is not the new version's fault.
        writeBootState(bootStatePath, {
          ...after,
          pending: { ...after.pending, attempts: Math.max(after.pending.attempts - 1, 0) },
        });
      }
      log(`slot ${slot} ${describeExit(exit)}; launcher stopping`);
      return exit.signal ?? exit.code ?? 0;
    }

    if (uncommitted && after?.pending) {
      const reason = timedOut ? REASON.timeout : watchdogFired ? REASON.watchdog : REASON.crashed;
      const detail = timedOut
        ? `did not commit within ${pending.deadlineSec}s`
        : watchdogFired
          ? 'stopped sending watchdog pings before committing'
          : exit.code === EXIT_RESTART
            ? 'asked for a restart before committing'
            : `${describeExit(exit)} before committing`;
      log(`pending slot ${slot} (${after.pending.version}) attempt ${after.pending.attempts}: ${detail}`);
      if (after.pending.attempts >= after.pending.maxAttempts) {
        rollBack(bootStatePath, reason, `boot attempt ${after.pending.attempts}: ${detail}`);
        failures = 0;
      } else {
        writeBootState(bootStatePath, {
          ...after,
          pending: { ...after.pending, lastFailure: { reason, detail, at: Date.now() } },
        });
        if (!watchdogFired && exit.code !== EXIT_RESTART) await sleep(backoff(options, failures++), stopper);
      }
      if (watchdogFired) return 134;
      continue;
    }

    if (watchdogFired) return 134;
    if (exit.code === EXIT_RESTART) {
      log(`slot ${slot} asked for a restart`);
      failures = 0;
      continue;
    }
    if (exit.code !== null && FATAL_EXIT_CODES.has(exit.code)) {
      log(`slot ${slot} exited with code ${exit.code}, which a restart cannot fix`);
      return exit.code;
    }
    if (ranMs >= options.stableMs) failures = 0;
    const delay = backoff(options, failures++);
    log(`slot ${slot} ${describeExit(exit)}; restarting in ${delay} ms`);
    await sleep(delay, stopper);
  }
  return 0;
}

/** @param {ReturnType<typeof readOptions>} options @param {number} failures */
function backoff(options, failures) {
  return Math.min(options.backoffMs * 2 ** Math.min(failures, 30), options.backoffMaxMs);
}

/**
 * @param {string} bootStatePath
 * @param {import('./types/boot-state.mjs').RollbackReason} reason
 * @param {string} detail
 */
function rollBack(bootStatePath, reason, detail) {
  const state = readBootState(bootStatePath);
  const pending = state?.pending;
  if (!state || !pending) return;
  log(
    `rolling back from slot ${pending.slot} (${pending.version}) to slot ${state.active}: ${reason}: ${detail}`,
  );
  writeBootState(bootStatePath, rolledBackState(state, { reason, detail, at: Date.now() }));
}

run(readOptions()).then(
  (result) => {
    if (typeof result === 'number') process.exit(result);
    // Die of the same signal as the agent, so systemd sees a clean SIGTERM stop as clean.
    process.removeAllListeners(result);
    process.kill(process.pid, result);
  },
  (error) => {
    log(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(70);
  },
);
