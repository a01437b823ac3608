import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import type { RunRecord } from '@agentbox/schemas';
import { runRecord, usageRecord } from '../../../../test/support/agent-fixtures.js';
import { CollectingReporter } from '../../../../test/support/supervisor-harness.js';
import { ReportJournal } from '../reporting/report-journal.js';
import { openAgentStores, type AgentStores } from '../store/agent-stores.js';
import { RunRecovery } from './run-recovery.js';

const run = (id: string, status: RunRecord['status']) => runRecord(id, status);

const usage = usageRecord('usage-0001', { runId: 'run-done', ts: 2_000 });

describe('RunRecovery', () => {
  const dir = useTempDir('run-recovery-');
  let stores: AgentStores;
  let journal: ReportJournal;
  let reporter: CollectingReporter;
  let logged: string[];

  beforeEach(() => {
    stores = openAgentStores(dir.path);
    journal = new ReportJournal(stores.db);
    reporter = new CollectingReporter();
    logged = [];
  });

  afterEach(() => {
    stores.close();
  });

  const create = (interrupted: RunRecord[]) =>
    new RunRecovery({
      journal,
      runs: stores.runs,
      reporter,
      interruptLeftRuns: () => interrupted,
      logger: { log: (message) => logged.push(message), warn: (message) => logged.push(message) },
    });

  it('sends the journaled reports again, then the events of the interrupted runs', () => {
    stores.runs.create({ ...run('run-done', 'succeeded'), endedAt: 1_500 });
    const event = {
      runId: 'run-done',
      agentId: 'triage',
      ts: 1_100,
      type: 'status',
      name: 'running',
    } as const;
    stores.runs.appendEvent(event);
    stores.runs.create(run('run-left', 'interrupted'));
    stores.runs.appendEvent({ ...event, runId: 'run-left' });
    journal.mark('run', 'run-done');
    journal.mark('events', 'run-done');
    journal.mark('usage', usage.id, usage);
    const sut = create([stores.runs.get('run-left')!]);

    sut.run();

    expect(reporter.runs.map((r) => [r.id, r.status])).toEqual([['run-done', 'succeeded']]);
    expect(reporter.events.map((e) => [e.runId, e.index])).toEqual([
      ['run-done', 0],
      ['run-left', 0],
    ]);
    expect(reporter.usages).toEqual([usage]);
    expect(logged).toEqual([
      'reports not spooled before the last stop sent again',
      'runs left running by the previous process marked interrupted',
    ]);
  });

  it('says nothing when the previous process left nothing behind', () => {
    create([]).run();
    expect(reporter.runs).toEqual([]);
    expect(reporter.events).toEqual([]);
    expect(logged).toEqual([]);
  });
});
