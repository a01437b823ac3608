import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { errorText } from '../../../common/error-text.js';
import type { ParentToWorker } from '../worker/ipc.js';
import type { RunEnding } from './run-recorder.js';
import type { WorkerLaunch } from './worker-launch.js';

const STDERR_TAIL = 4_096;
/** After its last message, the worker exits by itself; past this grace it is killed. */
const EXIT_GRACE_MS = 2_000;

export interface RunProcessOptions {
  launch: WorkerLaunch;
  limits: { memoryMb: number; runTimeoutSec: number };
  /** How often the process's resident memory is checked. */
  memoryPollMs: number;
  /** A message from the worker, not yet validated; a rejection fails the run. */
  onMessage: (raw: unknown) => Promise<void>;
  /** The process could not start, died, or broke a limit: the run ends this way. */
  onEnd: (ending: RunEnding) => void;
  logger?: { warn(message: string): void };
}

/**
 * The child process of one run (the run worker): forked with the run's heap cap and nothing of the
 * device agent's environment, watched for its time and memory limits, and killed when the run ends.
 */
export class RunProcess {
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly timers: NodeJS.Timeout[] = [];
  private stderrTail = '';
  private stopped = false;
  /** The worker sent its last message and exits by itself. */
  private exiting = false;

  constructor(
    private readonly runId: string,
    private readonly options: RunProcessOptions,
  ) {
    const { launch, limits } = options;
    const child = fork(launch.path, [], {
      execArgv: [...launch.execArgv, `--max-old-space-size=${limits.memoryMb}`],
      // The worker needs nothing from the device agent's environment (which may hold a claim token).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: process.env.NODE_ENV ?? 'production' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts listening to the worker and watching its limits (once the run is registered). */
  watch(): void {
    const { child, options } = this;
    const { memoryMb, runTimeoutSec } = options.limits;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on('error', (error) => {
      options.onEnd({ status: 'failed', error: `the run process could not be started: ${error.message}` });
    });
    child.on('message', (raw: unknown) => {
      options.onMessage(raw).catch((error: unknown) => {
        options.onEnd({ status: 'failed', error: `the run failed in the device agent: ${errorText(error)}` });
      });
    });
    // 'close' comes after the last IPC message and stderr chunk, so a `done` sent just before exiting is seen.
    child.on('close', (code, signal) => {
      if (this.stopped) return;
      const heap = /heap out of memory|Reached heap limit/i.test(this.stderrTail);
      options.onEnd(
        heap
          ? {
              status: 'failed',
              error: `the run process ran out of memory (its limit is ${memoryMb} MB) and was stopped`,
              crash: true,
            }
          : {
              status: 'interrupted',
              error: `the run process ended unexpectedly (${signal ? `killed by ${signal}` : `exit code ${code}`})`,
              crash: true,
            },
      );
    });
    this.timers.push(
      setTimeout(() => {
        options.onEnd({
          status: 'timed-out',
          error: `the run took longer than its limit of ${runTimeoutSec} s and was stopped`,
        });
      }, runTimeoutSec * 1_000),
    );
    this.timers.push(setInterval(() => void this.checkMemory(memoryMb), options.memoryPollMs));
  }

  send(message: ParentToWorker): void {
    if (!this.child.connected) return;
    this.child.send(message, (error) => {
      if (error)
        this.options.logger?.warn(`run ${this.runId}: message to the run process lost: ${error.message}`);
    });
  }

  /** The worker sent its last message (`done` or `failed`) and exits by itself. */
  lastMessageSent(): void {
    this.exiting = true;
  }

  /** The run is over: stop watching; the process is killed (after a grace when it exits by itself). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    if (this.exiting) {
      setTimeout(() => killProcess(this.child), EXIT_GRACE_MS).unref();
    } else {
      killProcess(this.child);
    }
  }

  private async checkMemory(memoryMb: number): Promise<void> {
    const pid = this.child.pid;
    if (this.stopped || pid === undefined) return;
    let status: string;
    try {
      status = await readFile(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // exited meanwhile, or no procfs: the V8 heap cap still applies
    }
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
    if (kb > memoryMb * 1024) {
      this.options.onEnd({
        status: 'failed',
        error: `the run process used ${Math.round(kb / 1024)} MB, over its memory limit of ${memoryMb} MB, and was stopped`,
        crash: true,
      });
    }
  }
}

function killProcess(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
