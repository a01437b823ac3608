import { describe, expect, it } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import { AgentHolds } from './agent-holds.js';
import { agent, useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

describe('AgentSupervisor', () => {
  const h = useSupervisorHarness();

  it('marks an agent crash-looping after 3 crashes in a row, until a run succeeds', async () => {
    h.sut.upsert(agent('fragile'));
    h.behaviours.set('fragile', () => ({ kind: 'text', text: 'fine', delayMs: 2_000 }));
    const statuses: string[] = [];
    h.sut.onChange((status) => statuses.push(status.fragile?.status ?? 'none'));

    for (let crash = 1; crash <= 3; crash++) {
      const before = h.server.completionRequests.length;
      const runId = h.accepted(h.sut.trigger('fragile', { type: 'interval' }));
      await waitFor('the model request', () => h.server.completionRequests.length > before, {
        intervalMs: 20,
      });
      process.kill(h.pidOf('fragile'), 'SIGKILL');
      expect((await h.finished(runId)).status).toBe('interrupted');
      expect(h.sut.status().fragile?.status).toBe(crash < 3 ? 'idle' : 'crash-looping');
    }
    expect(h.sut.status().fragile?.detail).toContain('killed by SIGKILL');

    h.behaviours.set('fragile', () => ({ kind: 'text', text: 'fine' }));
    const runId = h.accepted(h.sut.trigger('fragile', { type: 'interval' }));
    expect((await h.finished(runId)).status).toBe('succeeded');
    expect(h.sut.status().fragile?.status).toBe('idle');
    expect(statuses).toContain('crash-looping');
  });

  it('holds the next run back for the restart backoff after a crash', async () => {
    h.sut.upsert(agent('restarts'));
    h.behaviours.set('restarts', () => ({ kind: 'text', text: 'fine', delayMs: 1_000 }));
    const crashed = h.accepted(h.sut.trigger('restarts', { type: 'interval' }));
    await h.inFlight('restarts');
    process.kill(h.pidOf('restarts'), 'SIGKILL');
    const crashedAt = (await h.finished(crashed)).endedAt!;

    h.behaviours.set('restarts', () => ({ kind: 'text', text: 'fine' }));
    const outcome = h.sut.trigger('restarts', { type: 'interval' });
    expect(outcome).toMatchObject({ accepted: true, queued: true });
    const next = await h.finished(h.accepted(outcome));
    expect(next.status).toBe('succeeded');
    expect(next.startedAt! - crashedAt).toBeGreaterThanOrEqual(100);
  });

  it('ends a run budget-exhausted when the day budget is used up, and refuses triggers until it reopens', async () => {
    h.sut.upsert(
      agent('thrifty', {
        budget: { tokensPerDay: 20, tokensPerRun: 100_000 },
        instructions: `You are thrifty. ${'Be very careful with every word you say. '.repeat(5)}`,
      }),
    );

    const runId = h.accepted(h.sut.trigger('thrifty', { type: 'message' }, 'hello'));
    const record = await h.finished(runId);

    expect(record.status).toBe('budget-exhausted');
    expect(h.server.completionRequests).toEqual([]);
    const status = h.sut.status().thrifty;
    expect(status?.status).toBe('budget-exhausted');
    expect(status?.detail).toMatch(
      /daily token budget \(20 tokens\) is used up until \d{4}-\d\d-\d\dT00:00:00.000Z/,
    );
    const refused = h.sut.trigger('thrifty', { type: 'message' }, 'again');
    expect(refused).toEqual({ accepted: false, reason: status?.detail });

    // A larger budget from the owner lifts the block at once.
    h.sut.upsert(agent('thrifty', { budget: { tokensPerDay: 100_000, tokensPerRun: 100_000 } }));
    expect(h.sut.status().thrifty?.status).toBe('idle');
    expect((await h.finished(h.accepted(h.sut.trigger('thrifty', { type: 'message' })))).status).toBe(
      'succeeded',
    );
  });
});

describe('AgentHolds', () => {
  let now = 1_000_000;
  const create = () =>
    new AgentHolds({
      restartBackoff: { baseMs: 500, capMs: 60_000 },
      crashLoopAfter: 3,
      clock: () => now,
      onBudgetReopened: () => undefined,
    });

  it('backs off min(2^(crashes-1) x 500 ms, 60 s) after each crash in a row, and forgets them after a success', () => {
    const sut = create();
    const waits: number[] = [];
    for (let crash = 1; crash <= 9; crash++) {
      sut.runEnded({ status: 'interrupted', error: `crash ${crash}`, crash: true });
      waits.push(sut.restartWaitMs());
    }
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(sut.restarting).toBe(true);
    expect(sut.crashLoop()).toBe('the last 9 runs crashed; the last: crash 9');

    sut.runEnded({ status: 'failed', error: 'not a crash' });
    expect(sut.crashLoop()).toBeDefined();
    sut.runEnded({ status: 'succeeded' });
    expect(sut.crashLoop()).toBeUndefined();
    now += 60_000;
    expect(sut.restarting).toBe(false);
    sut.dispose();
  });

  it('blocks the day budget until the next UTC midnight unless told otherwise', () => {
    const sut = create();
    sut.blockForDay(undefined);
    expect(sut.budgetBlock(100)).toBe(
      "the agent's daily token budget (100 tokens) is used up until 1970-01-02T00:00:00.000Z",
    );
    sut.liftBudgetBlock();
    expect(sut.budgetBlock(100)).toBeUndefined();
    sut.blockForDay(now + 5);
    now += 5;
    expect(sut.budgetBlock(100)).toBeUndefined();
    sut.dispose();
  });
});
