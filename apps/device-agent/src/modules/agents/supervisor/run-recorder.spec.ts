import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '@agentbox/schemas';
import { openAgentStores } from '../store/agent-stores.js';
import { RECOVERED_REASON } from './run-recorder.js';
import { useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

describe('AgentSupervisor', () => {
  const h = useSupervisorHarness();

  it('recoverAtStart marks the runs a crashed device agent left running as interrupted, and reports them', async () => {
    const left: RunRecord = {
      id: 'run-left-running',
      agentId: 'ghost',
      agentVersion: 1,
      trigger: { type: 'cron', detail: '*/5 * * * *' },
      status: 'running',
      createdAt: Date.now() - 60_000,
      startedAt: Date.now() - 60_000,
      steps: 1,
      usage: { inputTokens: 10, outputTokens: 2 },
    };
    h.stores.runs.create(left);
    h.stores.runs.create({ ...left, id: 'run-left-queued', status: 'queued' });
    h.stores.runs.appendEvent({
      runId: left.id,
      agentId: 'ghost',
      ts: left.createdAt,
      type: 'status',
      name: 'running',
    });
    await h.sut.stop();
    h.stores.close();

    // The device agent comes back.
    h.stores = openAgentStores(join(h.dir, 'state'));
    h.sut = h.createSupervisor();
    const recovered = h.sut.recoverAtStart();

    expect(recovered.map((r) => [r.id, r.status, r.error])).toEqual([
      ['run-left-running', 'interrupted', RECOVERED_REASON],
      ['run-left-queued', 'interrupted', RECOVERED_REASON],
    ]);
    expect(h.stores.runs.list({ status: 'running' })).toEqual([]);
    expect(h.reporter.runs.map((r) => r.id)).toEqual(['run-left-running', 'run-left-queued']);
    expect(h.stores.runs.events(left.id).map((e) => [e.index, e.name])).toEqual([
      [0, 'running'],
      [1, 'interrupted'],
    ]);
  });
});
