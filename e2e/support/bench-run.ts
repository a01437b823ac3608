import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

/** The 1-minute load average now, for the figures' context (docs/benchmarks.md gives it with each run). */
export function loadNow(): string {
  return loadavg()[0]!.toFixed(1);
}

/** The machine a benchmark ran on: cores, CPU model, memory and the load when it started. */
export function machine(): string {
  return `${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadNow()}`;
}

/** Runs a benchmark's `main` with a temp dir of its own, removed afterwards, and exits with its outcome. */
export function runBench(name: string, main: (dir: string) => Promise<void>): void {
  const dir = mkdtempSync(join(tmpdir(), `agentbox-bench-${name}-`));
  main(dir)
    .finally(() => rmSync(dir, { recursive: true, force: true }))
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
}
