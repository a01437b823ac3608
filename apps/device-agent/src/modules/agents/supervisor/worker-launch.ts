import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface WorkerLaunch {
  /** The module forked for each run. */
  path: string;
  /** Node options placed before the per-run ones (the memory cap is added by the supervisor). */
  execArgv: string[];
}

/**
 * Where the run worker is. Built, it is `dist/modules/agents/worker/run-worker.js` beside this
 * module. Run from TypeScript sources (tests, tsx), the `.ts` file is forked through tsx's loader,
 * since Node cannot load TypeScript by itself.
 */
export function defaultWorkerLaunch(): WorkerLaunch {
  const js = fileURLToPath(new URL('../worker/run-worker.js', import.meta.url));
  if (existsSync(js)) return { path: js, execArgv: [] };
  const ts = fileURLToPath(new URL('../worker/run-worker.ts', import.meta.url));
  if (existsSync(ts)) return { path: ts, execArgv: ['--import', 'tsx'] };
  throw new Error(`the run worker is missing: neither ${js} nor ${ts} exists`);
}

/** The launch for an explicit worker path: `.ts` files go through tsx. */
export function workerLaunchFor(path: string): WorkerLaunch {
  return { path, execArgv: path.endsWith('.ts') ? ['--import', 'tsx'] : [] };
}
