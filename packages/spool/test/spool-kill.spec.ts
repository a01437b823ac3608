import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { Spool } from '../src/spool.js';
import { parsePayload, payloadFor, writerSource } from './fixtures/spool-writer.js';

const pkgRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
let distIndex: string;

interface Report {
  /** id -> i of every append the child reported as done. */
  appended: Map<number, number>;
  lastAppended: number;
  lastAcked: number;
}

/** Runs the writer until it has reported `minAppends` appends, lets it go on for `runMs`, then SIGKILLs it. */
async function runAndKill(args: string[], minAppends: number, runMs: number): Promise<Report> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', writerSource(distIndex), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const report: Report = { appended: new Map(), lastAppended: 0, lastAcked: 0 };
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );

  let killTimer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'A') {
        report.appended.set(Number(a), Number(b));
        report.lastAppended = Number(a);
      } else if (kind === 'K') {
        report.lastAcked = Number(a);
      }
    }
    if (!killTimer && report.appended.size >= minAppends)
      killTimer = setTimeout(() => child.kill('SIGKILL'), runMs);
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const signal = await exited;
  clearTimeout(guard);
  if (killTimer) clearTimeout(killTimer);
  expect(signal, `writer died on its own: ${stderr}`).toBe('SIGKILL');
  return report;
}

describe('Spool under kill -9', () => {
  /** A private build of the package, so that the shared dist/ is never rewritten under someone's feet. */
  const buildDir = useTempDir('agentbox-telemetry-build-', { per: 'suite' });
  const dir = useTempDir('agentbox-spool-kill-');

  beforeAll(async () => {
    // The child runs the built package (plain node, no test transform): build the current source.
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const noExtras = ['--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'];
    const args = [tsc, '-p', 'tsconfig.build.json', '--outDir', buildDir.path, ...noExtras];
    execFileSync(process.execPath, args, { cwd: pkgRoot, stdio: 'inherit' });
    await writeFile(join(buildDir.path, 'package.json'), JSON.stringify({ type: 'module' }));
    distIndex = join(buildDir.path, 'index.js');
  }, 120_000);

  it('loses no reported append, tears no record and keeps ids contiguous across kills (fsync on)', async () => {
    let previousLastId = 0;
    for (let round = 1; round <= 3; round++) {
      const report = await runAndKill(
        [dir.path, String(round), String(4 * 1024 * 1024), '16384', '1', '25'],
        5,
        300,
      );
      expect(report.appended.size).toBeGreaterThan(0);

      const sut = await Spool.open({ dir: dir.path, maxBytes: 4 * 1024 * 1024, segmentBytes: 16384 });
      try {
        const records = await sut.peek(1_000_000);
        const ids = records.map((r) => r.id);
        // Nothing dropped here (the bound is far away), so unacknowledged ids run without a gap to the end.
        expect(sut.stats().dropped).toBe(0);
        expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => (ids[0] ?? 0) + k));
        // Acks are durable once reported; at most the one in flight (last append - 5) may also have landed.
        const ackedOnDisk = (ids[0] ?? 1) - 1;
        expect(ackedOnDisk).toBeGreaterThanOrEqual(report.lastAcked);
        expect(ackedOnDisk).toBeLessThanOrEqual(Math.max(report.lastAcked, report.lastAppended - 5));
        // Every append reported done is there, with its exact payload; at most one more was in flight.
        const last = ids.at(-1) ?? 0;
        expect(last).toBeGreaterThanOrEqual(report.lastAppended);
        expect(last).toBeLessThanOrEqual(report.lastAppended + 1);
        for (const r of records) {
          const parsed = parsePayload(r.data.toString('utf8'));
          expect(parsed, `record ${r.id} is torn`).toBeDefined();
          const reportedI = report.appended.get(r.id);
          if (parsed!.round === round && reportedI !== undefined) expect(parsed!.i).toBe(reportedI);
        }
        for (const [id, i] of report.appended) {
          if (id > ackedOnDisk) {
            expect(records.find((r) => r.id === id)?.data.toString('utf8')).toBe(payloadFor(round, i));
          }
        }
        // Ids of this round continue where the previous one stopped.
        const firstOfRound = Math.min(...report.appended.keys());
        expect(firstOfRound).toBeGreaterThan(previousLastId);
        previousLastId = last;
      } finally {
        await sut.close();
      }
    }
  }, 60_000);

  it('stays within its bound and counts drops while being killed (fsync off)', async () => {
    const maxBytes = 64 * 1024;
    let droppedBefore = 0;
    for (let round = 1; round <= 2; round++) {
      const report = await runAndKill(
        [dir.path, String(round), String(maxBytes), '4096', '0', '0'],
        1000,
        200,
      );

      const sut = await Spool.open({ dir: dir.path, maxBytes, segmentBytes: 4096 });
      try {
        const stats = sut.stats();
        expect(stats.diskBytes).toBeLessThanOrEqual(maxBytes);
        expect(stats.dropped).toBeGreaterThan(droppedBefore);
        const records = await sut.peek(1_000_000);
        const ids = records.map((r) => r.id);
        expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => (ids[0] ?? 0) + k));
        expect(ids.length).toBe(stats.records);
        expect(ids.at(-1)).toBeGreaterThanOrEqual(report.lastAppended);
        expect(ids.at(-1)).toBeLessThanOrEqual(report.lastAppended + 1);
        for (const r of records)
          expect(parsePayload(r.data.toString('utf8')), `record ${r.id}`).toBeDefined();
        droppedBefore = stats.dropped;
      } finally {
        await sut.close();
      }
    }
  }, 60_000);
});
