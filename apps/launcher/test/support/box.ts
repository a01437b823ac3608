import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@agentbox/test-support';
import { writeBootState, writeSlotInfo } from '../../boot-state.mjs';
import type { BootState, Slot } from '../../types/boot-state.mjs';

export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const LAUNCHER = join(APP_DIR, 'launcher.mjs');
export const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const BOOT_STATE_MODULE = join(APP_DIR, 'boot-state.mjs');

/**
 * What a fixture bundle's dist/main.js does once started:
 * - commit: commits after `commitAfterMs` when started pending, then keeps running
 * - crash: exits with code 3 after a moment
 * - hang: never commits; exits on SIGTERM
 * - hang-hard: never commits and ignores SIGTERM
 * - update-then-restart: marks the other slot pending and exits 75 (what the device agent does after an install)
 * - exit: exits with `exitCode` at once
 */
export type Behavior =
  | { kind: 'commit'; commitAfterMs?: number }
  | { kind: 'crash' }
  | { kind: 'hang' }
  | { kind: 'hang-hard' }
  | { kind: 'update-then-restart'; version: string; maxAttempts?: number; deadlineSec?: number }
  | { kind: 'exit'; exitCode: number };

export interface AgentEvent {
  event: string;
  slot: Slot;
  pending: boolean;
  pid: number;
  at: number;
  deadline?: string;
}

function agentScript(behavior: Behavior, stopExitCode: number): string {
  return `import { appendFileSync } from 'node:fs';
import { commitPendingSlot, setPendingSlot, otherSlot } from ${JSON.stringify(BOOT_STATE_MODULE)};
const behavior = ${JSON.stringify(behavior)};
const slot = process.env.AGENTBOX_SLOT;
const pending = process.env.AGENTBOX_BOOT_PENDING === '1';
const log = (event) => appendFileSync(process.env.TEST_EVENTS, JSON.stringify({ event, slot, pending, pid: process.pid, at: Date.now(), deadline: process.env.AGENTBOX_BOOT_DEADLINE, watchdogPid: process.env.WATCHDOG_PID ?? null }) + '\\n');
if (behavior.kind === 'hang-hard') process.on('SIGTERM', () => log('sigterm-ignored'));
else for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => { log(signal.toLowerCase()); process.exit(${stopExitCode}); });
log('start');
setInterval(() => {}, 60_000);
switch (behavior.kind) {
  case 'commit':
    if (pending) setTimeout(() => { commitPendingSlot(process.env.AGENTBOX_BOOT_STATE, { slot }); log('committed'); }, behavior.commitAfterMs ?? 100);
    break;
  case 'crash':
    setTimeout(() => { log('crash'); process.exit(3); }, 50);
    break;
  case 'update-then-restart':
    setTimeout(() => {
      setPendingSlot(process.env.AGENTBOX_BOOT_STATE, { slot: otherSlot(slot), version: behavior.version, rolloutId: 'r1', maxAttempts: behavior.maxAttempts, deadlineSec: behavior.deadlineSec });
      log('restart');
      process.exit(75);
    }, 50);
    break;
  case 'exit':
    process.exit(behavior.exitCode);
}
`;
}

export interface LauncherRun {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A temp state dir with slots, boot.json and a launcher started on it; `close` kills every process it made. */
export class TestBox {
  readonly stateDir = mkdtempSync(join(tmpdir(), 'agentbox-launcher-'));
  readonly bootStatePath = join(this.stateDir, 'boot.json');
  readonly eventsPath = join(this.stateDir, 'events.log');
  private readonly launchers: LauncherRun[] = [];

  installSlot(
    slot: Slot,
    version: string,
    behavior: Behavior,
    { installedAt = Date.now(), stopExitCode = 0 } = {},
  ): void {
    const dir = join(this.stateDir, 'slots', slot);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', version, type: 'module' }));
    writeFileSync(join(dir, 'dist', 'main.js'), agentScript(behavior, stopExitCode));
    writeSlotInfo(dir, { version, installedAt });
  }

  /** The update under test: slot a (1.0.0) active and healthy, slot b (1.1.0) pending with `behavior`. */
  pendingUpdate(
    behavior: Behavior,
    { rolloutId, maxAttempts, deadlineSec }: { rolloutId?: string; maxAttempts: number; deadlineSec: number },
  ): void {
    this.installSlot('a', '1.0.0', { kind: 'commit' });
    this.installSlot('b', '1.1.0', behavior);
    this.writeBoot({
      active: 'a',
      pending: {
        slot: 'b',
        version: '1.1.0',
        ...(rolloutId === undefined ? {} : { rolloutId }),
        attempts: 0,
        maxAttempts,
        deadlineSec,
        since: 1,
      },
    });
  }

  writeBoot(state: Partial<BootState> & { active: Slot }): void {
    writeBootState(this.bootStatePath, { v: 1, pending: null, last: null, ...state });
  }

  readBoot(): BootState {
    return JSON.parse(readFileSync(this.bootStatePath, 'utf8')) as BootState;
  }

  events(): AgentEvent[] {
    if (!existsSync(this.eventsPath)) return [];
    return readFileSync(this.eventsPath, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as AgentEvent);
  }

  starts(): AgentEvent[] {
    return this.events().filter((e) => e.event === 'start');
  }

  note(text: string): void {
    appendFileSync(join(this.stateDir, 'notes.log'), `${text}\n`);
  }

  startLauncher(env: Record<string, string> = {}): LauncherRun {
    return this.startLauncherAt(LAUNCHER, this.stateDir, env);
  }

  /** Starts a launcher file (e.g. an installed copy) on a state dir; agents still log to this box's events. */
  startLauncherAt(launcher: string, stateDir: string, env: Record<string, string> = {}): LauncherRun {
    const child = spawn(process.execPath, [launcher, '--state-dir', stateDir], {
      env: {
        ...process.env,
        TEST_EVENTS: this.eventsPath,
        AGENTBOX_LAUNCHER_BACKOFF_MS: '100',
        AGENTBOX_LAUNCHER_BACKOFF_MAX_MS: '400',
        AGENTBOX_LAUNCHER_KILL_GRACE_MS: '500',
        WATCHDOG_PID: '1',
        ...env,
      },
      // Own process group: a kill -9 of the group is what a power loss does to the launcher.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const run = { process: child, output: () => output, exited };
    this.launchers.push(run);
    return run;
  }

  async waitForEvent(
    what: string,
    predicate: (events: AgentEvent[]) => boolean,
    timeoutMs = 15_000,
  ): Promise<AgentEvent[]> {
    return waitFor(
      what,
      () => {
        const events = this.events();
        return predicate(events) ? events : undefined;
      },
      { timeoutMs, intervalMs: 25 },
    );
  }

  /** kill -9 of the launcher and of every agent it started: what a power loss does. */
  powerLoss(run: LauncherRun): Promise<unknown> {
    killGroup(run.process.pid);
    for (const event of this.starts()) killGroup(event.pid);
    return run.exited;
  }

  async close(): Promise<void> {
    for (const run of this.launchers) {
      killGroup(run.process.pid);
      await run.exited;
    }
    for (const event of this.starts()) killGroup(event.pid);
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}
