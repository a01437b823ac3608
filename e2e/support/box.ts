import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './processes.js';

const installScript = join(repoRoot, 'infra/box/install.sh');
const releaseCli = join(repoRoot, 'packages/release-cli/dist/cli.js');

/** Runs `agentbox-release` (the built CLI) and returns its output; a non-zero exit throws with it. */
export async function releaseCliRun(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [releaseCli, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`agentbox-release ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

/** `boot.json` of a box, as apps/launcher/README.md describes it (only what tests look at). */
export interface BootJson {
  v: 1;
  active: 'a' | 'b';
  pending: { slot: 'a' | 'b'; version: string; rolloutId?: string; attempts: number } | null;
  last: {
    result: 'committed' | 'rolled-back';
    slot: 'a' | 'b';
    version: string;
    rolloutId?: string;
    reason?: string;
    reportedAt?: number;
  } | null;
}

export interface InstalledBox {
  readonly root: string;
  readonly prefix: string;
  readonly stateDir: string;
  readonly launcher: string;
}

/** Lays out a box with infra/box/install.sh (no systemd) under `root`: slot a from `bundle`, `rootFile` pinned. */
export function installBox(root: string, bundle: string, rootFile: string): InstalledBox {
  const box = {
    root,
    prefix: join(root, 'opt'),
    stateDir: join(root, 'state'),
    launcher: join(root, 'opt', 'launcher', 'launcher.mjs'),
  };
  const result = spawnSync(
    'bash',
    [
      installScript,
      '--bundle',
      bundle,
      '--root',
      rootFile,
      '--prefix',
      box.prefix,
      '--state-dir',
      box.stateDir,
      '--config-dir',
      join(root, 'etc'),
      '--unit-dir',
      join(root, 'systemd'),
      '--no-systemd',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) {
    throw new Error(`install.sh exited ${result.status}:\n${result.stdout}${result.stderr}`);
  }
  if (!existsSync(box.launcher)) throw new Error(`install.sh put no launcher at ${box.launcher}`);
  return box;
}

export function readBootJson(box: InstalledBox): BootJson {
  return JSON.parse(readFileSync(join(box.stateDir, 'boot.json'), 'utf8')) as BootJson;
}

export function readSlotVersion(box: InstalledBox, slot: 'a' | 'b'): string {
  const info = JSON.parse(readFileSync(join(box.stateDir, 'slots', slot, 'slot.json'), 'utf8')) as {
    version: string;
  };
  return info.version;
}

/** Pids of live processes whose command line names this box's slots (the device agents it runs). */
function slotProcesses(box: InstalledBox): number[] {
  const marker = join(box.stateDir, 'slots');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // Exited while listing.
    }
  }
  return pids;
}

/** A box running: the launcher from its prefix, and through it the device agent from a slot. */
export class LauncherBox {
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<number | string> | undefined;

  constructor(
    readonly box: InstalledBox,
    private readonly env: Record<string, string>,
  ) {
    this.logFile = join(box.root, 'box.log');
  }

  start(): this {
    mkdirSync(this.box.root, { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // The agent inherits the launcher's stdio, so one log holds both.
    const child = spawn(process.execPath, [this.box.launcher], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AGENTBOX_STATE_DIR: this.box.stateDir,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        log.end();
        resolve(code ?? signal ?? 'unknown');
      }),
    );
    return this;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** SIGTERM through the launcher to the agent; whatever still runs from this box's slots afterwards is killed. */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([
        this.exited!.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs)),
      ]);
      if (!stopped) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    for (const pid of slotProcesses(this.box)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}
