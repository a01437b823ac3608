import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { onJsonLines } from './json-lines.js';

export const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEVICE_AGENT_MAIN = join(APP_DIR, 'dist/main.js');

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the device agent when dist/ is missing or older than src/ (CI builds it before the tests anyway). */
export function ensureBuilt(): void {
  if (
    existsSync(DEVICE_AGENT_MAIN) &&
    statSync(DEVICE_AGENT_MAIN).mtimeMs >= newestSourceMtime(join(APP_DIR, 'src'))
  )
    return;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: APP_DIR, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building the device agent failed');
}

/** The built device agent as a real child process, with its JSON log lines collected. */
export class DeviceAgentProcess {
  readonly logs: Record<string, unknown>[] = [];
  stderr = '';
  private child: ChildProcess | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(private readonly env: Record<string, string>) {}

  start(): this {
    const child = spawn(process.execPath, [DEVICE_AGENT_MAIN], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    onJsonLines(
      child.stdout,
      (line) => this.logs.push(line),
      (raw) => this.logs.push({ raw }),
    );
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return this;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  hasLog(msg: string): boolean {
    return this.logs.some((line) => line.msg === msg);
  }

  /** Makes sure the process is gone (for afterEach). */
  async dispose(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
  }
}

/** After a failed test of the calling block: the device agent's stderr and its last `lines` log lines. */
export function logOnFailure(process: () => DeviceAgentProcess | undefined, lines: number): void {
  afterEach((context) => {
    const deviceAgent = process();
    if (context.task.result?.state === 'fail' && deviceAgent) {
      console.error(
        'device agent stderr:',
        deviceAgent.stderr,
        '\nlast logs:',
        deviceAgent.logs.slice(-lines),
      );
    }
  });
}
