import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import {
  RunEventsMessageSchema,
  RunsMessageSchema,
  UsageMessageSchema,
  type RunEvent,
  type RunRecord,
} from '@agentbox/schemas';
import { openSpool } from '../../outbox/outbox-spool.js';
import type { OutboxService } from '../../outbox/outbox.service.js';
import type { SequenceService } from '../../sequence/sequence.service.js';
import { openAgentDatabase } from '../store/agent-database.js';
import { ReportJournal } from './report-journal.js';
import { SpoolRunReporter } from './spool-run-reporter.js';
import { runRecord, usageRecord } from '../../../../test/support/agent-fixtures.js';
import { enrolledBox } from '../../../../test/support/enrolled-box.js';

const run = (id: string, status: RunRecord['status'], output?: string): RunRecord =>
  runRecord(id, status, output === undefined ? {} : { output });
const event = (runId: string, index: number): RunEvent => ({
  runId,
  agentId: 'triage',
  index,
  ts: 1_000 + index,
  type: 'step',
});
describe('SpoolRunReporter with the real outbox spool', () => {
  const dir = useTempDir('agentbox-reporter-');
  let outbox: OutboxService;
  let seq: SequenceService;
  const warnings: string[] = [];

  beforeEach(async () => {
    warnings.length = 0;
    // The link is never started: everything stays in the spool, as on a box that is offline.
    ({ outbox, seq } = await enrolledBox(dir.path));
    seq.open();
    await outbox.open();
  });

  afterEach(async () => {
    await outbox.close().catch(() => undefined);
  });

  async function spooled(): Promise<{ c: string; m: Record<string, unknown> }[]> {
    await outbox.close();
    const spool = await openSpool(join(dir.path, 'spool'), 1024 * 1024);
    try {
      const records = await spool.peek(1_000);
      return records.map(
        (r) => JSON.parse(r.data.toString('utf8')) as { c: string; m: Record<string, unknown> },
      );
    } finally {
      await spool.close();
    }
  }

  function build(maxMessageBytes?: number) {
    return new SpoolRunReporter(
      outbox,
      { warn: (message) => warnings.push(message) },
      { nextSeq: () => seq.next(), batchWindowMs: 10_000, maxMessageBytes },
    );
  }

  it('gathers a burst into one message per channel, runs first, the latest record per run', async () => {
    const sut = build();
    sut.event(event('run-00000001', 0));
    sut.run(run('run-00000001', 'running'));
    sut.usage(usageRecord('use-00000001'));
    sut.event(event('run-00000001', 1));
    sut.run(run('run-00000001', 'succeeded', 'done'));
    await sut.flush();
    const records = await spooled();
    expect(records.map((r) => r.c)).toEqual(['runs', 'run-events', 'usage']);
    const runs = RunsMessageSchema.parse(records[0]!.m);
    expect(runs.runs).toEqual([run('run-00000001', 'succeeded', 'done')]);
    expect(RunEventsMessageSchema.parse(records[1]!.m).events.map((e) => e.index)).toEqual([0, 1]);
    expect(UsageMessageSchema.parse(records[2]!.m).records.map((u) => u.id)).toEqual(['use-00000001']);
    const seqs = records.map((r) => r.m.seq as number);
    expect(seqs[1]).toBeGreaterThan(seqs[0]!);
    expect(seqs[2]).toBeGreaterThan(seqs[1]!);
  });

  it('splits a big burst so each message stays within the item and byte caps', async () => {
    const sut = build(20_000);
    for (let i = 0; i < 450; i++) sut.event(event('run-00000001', i));
    for (let i = 0; i < 5; i++) sut.run(run(`run-0000000${i}`, 'succeeded', 'x'.repeat(9_000)));
    await sut.flush();
    const records = await spooled();
    const events = records.filter((r) => r.c === 'run-events').map((r) => RunEventsMessageSchema.parse(r.m));
    expect(events.map((m) => m.events.length)).toEqual([200, 200, 50]);
    expect(events.flatMap((m) => m.events.map((e) => e.index))).toEqual([...Array(450).keys()]);
    const runs = records.filter((r) => r.c === 'runs').map((r) => RunsMessageSchema.parse(r.m));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    for (const message of runs) expect(JSON.stringify(message).length).toBeLessThan(30_000);
    expect(runs.flatMap((m) => m.runs.map((r) => r.id)).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `run-0000000${i}`),
    );
  });

  it('leaves out an invalid item instead of losing the batch', async () => {
    const sut = build();
    sut.usage(usageRecord('use-00000001'));
    sut.usage({ ...usageRecord('bad id!'), inputTokens: -1 });
    await sut.flush();
    const records = await spooled();
    expect(UsageMessageSchema.parse(records[0]!.m).records.map((u) => u.id)).toEqual(['use-00000001']);
    expect(sut.invalid).toBe(1);
    expect(warnings).toEqual(['invalid usage record not reported']);
  });

  it('writes a burst on its own after the batch window', async () => {
    const sut = new SpoolRunReporter(
      outbox,
      { warn: () => undefined },
      { nextSeq: () => seq.next(), batchWindowMs: 20 },
    );
    sut.run(run('run-00000009', 'running'));
    await expect.poll(() => outbox.stats()?.records, { timeout: 2_000 }).toBe(1);
  });

  it('journals what is not yet in the spool and clears it once written', async () => {
    const db = openAgentDatabase(dir.path);
    try {
      const journal = new ReportJournal(db);
      const sut = new SpoolRunReporter(
        outbox,
        { warn: () => undefined },
        {
          nextSeq: () => seq.next(),
          batchWindowMs: 10_000,
          journal,
        },
      );
      sut.run(run('run-00000001', 'running'));
      sut.event(event('run-00000001', 0));
      sut.usage(usageRecord('use-00000001'));
      // A kill -9 now would leave these for the next start to send again.
      expect(journal.ids('run')).toEqual(['run-00000001']);
      expect(journal.ids('events')).toEqual(['run-00000001']);
      expect(journal.usage()).toEqual([usageRecord('use-00000001')]);
      await sut.flush();
      expect(journal.size()).toBe(0);
      // A write that fails leaves its entries in place.
      await outbox.close();
      sut.run(run('run-00000002', 'succeeded'));
      await sut.flush();
      expect(journal.ids('run')).toEqual(['run-00000002']);
      expect(new ReportJournal(db).ids('run')).toEqual(['run-00000002']);
    } finally {
      db.close();
    }
  });
});
