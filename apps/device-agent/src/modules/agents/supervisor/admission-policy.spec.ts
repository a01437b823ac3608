import { describe, expect, it } from 'vitest';
import { isAlive, waitFor } from '@agentbox/test-support';
import { admissionOf, STOPPING_REASON, type AdmissionState } from './admission-policy.js';
import { agent, useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

describe('AgentSupervisor', () => {
  const h = useSupervisorHarness();

  describe('a trigger while the agent is busy', () => {
    it('reject: refused with the reason, recorded as a rejected run', async () => {
      h.sut.upsert(agent('solo', { concurrency: { onBusy: 'reject' } }));
      h.behaviours.set('solo', () => ({ kind: 'text', text: 'one', delayMs: 800 }));

      const first = h.accepted(h.sut.trigger('solo', { type: 'message' }));
      const second = h.sut.trigger('solo', { type: 'message' });

      expect(second).toEqual({
        accepted: false,
        reason: `the agent is busy with run ${first} (it is set to reject runs when busy)`,
      });
      expect(h.stores.runs.list({ agentId: 'solo', status: 'rejected' })).toHaveLength(1);
      expect((await h.finished(first)).status).toBe('succeeded');
    });

    it('enqueue: runs wait in a bounded queue and run in order', async () => {
      h.sut.upsert(agent('queued', { concurrency: { onBusy: 'enqueue', queueSize: 2 } }));
      let n = 0;
      h.behaviours.set('queued', () => ({ kind: 'text', text: `answer ${++n}`, delayMs: 300 }));

      const first = h.sut.trigger('queued', { type: 'message' }, 'one');
      const second = h.sut.trigger('queued', { type: 'message' }, 'two');
      const third = h.sut.trigger('queued', { type: 'message' }, 'three');
      const fourth = h.sut.trigger('queued', { type: 'message' }, 'four');

      expect([first, second, third].map((o) => o.accepted && o.queued)).toEqual([false, true, true]);
      expect(fourth).toEqual({ accepted: false, reason: "the agent's queue is full (2 runs waiting)" });
      expect(h.sut.status().queued?.queued).toBe(2);
      const records = await Promise.all([first, second, third].map((o) => h.finished(h.accepted(o))));
      expect(records.map((r) => [r.input, r.status, r.output])).toEqual([
        ['one', 'succeeded', 'answer 1'],
        ['two', 'succeeded', 'answer 2'],
        ['three', 'succeeded', 'answer 3'],
      ]);
      expect(records[1]!.startedAt!).toBeGreaterThanOrEqual(records[0]!.endedAt!);
      expect(h.reporter.runs.filter((r) => r.id === records[1]!.id).map((r) => r.status)).toEqual([
        'queued',
        'running',
        'succeeded',
      ]);
    });

    it('interrupt: the running run is interrupted and the new one runs', async () => {
      h.sut.upsert(agent('impatient', { concurrency: { onBusy: 'interrupt' } }));
      h.behaviours.set('impatient', () => ({ kind: 'text', text: 'done', delayMs: 1_000 }));

      const first = h.accepted(h.sut.trigger('impatient', { type: 'message' }, 'old'));
      await h.inFlight('impatient');
      const second = h.sut.trigger('impatient', { type: 'message' }, 'new');

      expect(second).toMatchObject({ accepted: true, queued: false });
      expect(h.stores.runs.get(first)).toMatchObject({
        status: 'interrupted',
        error: 'interrupted by a newer run (the agent is set to interrupt when busy)',
      });
      expect(await h.finished(h.accepted(second))).toMatchObject({ status: 'succeeded', input: 'new' });
      // An interruption asked for is no crash.
      expect(h.sut.status().impatient?.status).toBe('idle');
    });

    it('runs up to maxParallel runs of one agent at once, each in its own process', async () => {
      h.sut.upsert(agent('twins', { concurrency: { maxParallel: 2 } }));
      h.behaviours.set('twins', () => ({ kind: 'text', text: 'together', delayMs: 1_000 }));

      const outcomes = [
        h.sut.trigger('twins', { type: 'message' }, 'a'),
        h.sut.trigger('twins', { type: 'message' }, 'b'),
      ];

      expect(outcomes.map((o) => o.accepted && o.queued)).toEqual([false, false]);
      await waitFor('both model requests', () => h.server.completionRequests.length === 2, {
        intervalMs: 20,
      });
      const active = h.sut.activeRuns();
      expect(active.map((run) => run.runId).sort()).toEqual(outcomes.map(h.accepted).sort());
      const pids = active.map((run) => run.pid!);
      expect(new Set(pids).size).toBe(2);
      expect(pids.every(isAlive)).toBe(true);
      expect(h.sut.status().twins).toMatchObject({ status: 'running', queued: 0 });
      expect(h.sut.status().twins?.detail).toMatch(/^2 runs: /);

      const [a, b] = await Promise.all(outcomes.map((o) => h.finished(h.accepted(o))));
      expect([a!.status, b!.status]).toEqual(['succeeded', 'succeeded']);
      // Each waited a second for the model, so had they run one after the other, one would start after the other ended.
      expect(b!.startedAt!).toBeLessThan(a!.endedAt!);
      expect(a!.startedAt!).toBeLessThan(b!.endedAt!);
      expect(h.sut.status().twins?.status).toBe('idle');
      await waitFor('both run processes to exit', () => !pids.some(isAlive), { timeoutMs: 5_000 });
    });

    it('reject with maxParallel: the run past the limit is refused while the others go on', async () => {
      h.sut.upsert(agent('pair', { concurrency: { maxParallel: 2, onBusy: 'reject' } }));
      h.behaviours.set('pair', () => ({ kind: 'text', text: 'done', delayMs: 800 }));

      const first = h.accepted(h.sut.trigger('pair', { type: 'message' }));
      const second = h.accepted(h.sut.trigger('pair', { type: 'message' }));
      const third = h.sut.trigger('pair', { type: 'message' });

      expect(third).toEqual({
        accepted: false,
        reason: `the agent is busy with runs ${first}, ${second} (all 2 of its parallel runs; it is set to reject runs when busy)`,
      });
      expect((await h.finished(first)).status).toBe('succeeded');
      expect((await h.finished(second)).status).toBe('succeeded');
      // A slot is free again.
      expect((await h.finished(h.accepted(h.sut.trigger('pair', { type: 'message' })))).status).toBe(
        'succeeded',
      );
    });

    it('enqueue with maxParallel: the run past the limit waits for the first free slot', async () => {
      h.sut.upsert(agent('trio', { concurrency: { maxParallel: 2, onBusy: 'enqueue' } }));
      h.behaviours.set('trio', (request) => ({
        kind: 'text',
        text: 'done',
        delayMs: JSON.stringify(request.body?.messages).includes('short') ? 300 : 1_500,
      }));

      const long = h.accepted(h.sut.trigger('trio', { type: 'message' }, 'long'));
      const short = h.accepted(h.sut.trigger('trio', { type: 'message' }, 'short'));
      const waiting = h.sut.trigger('trio', { type: 'message' }, 'third');

      expect(waiting).toMatchObject({ accepted: true, queued: true });
      expect(h.sut.status().trio).toMatchObject({ status: 'running', queued: 1 });
      const third = await h.finished(h.accepted(waiting));
      const [longRecord, shortRecord] = [await h.finished(long), await h.finished(short)];
      expect(third.status).toBe('succeeded');
      // It took the slot the short run freed, while the long one still ran.
      expect(third.startedAt!).toBeGreaterThanOrEqual(shortRecord.endedAt!);
      expect(third.startedAt!).toBeLessThan(longRecord.endedAt!);
    });

    it('interrupt with maxParallel: the oldest run gives way, the others go on', async () => {
      h.sut.upsert(agent('crowd', { concurrency: { maxParallel: 2, onBusy: 'interrupt' } }));
      h.behaviours.set('crowd', () => ({ kind: 'text', text: 'done', delayMs: 1_000 }));

      const oldest = h.accepted(h.sut.trigger('crowd', { type: 'message' }, 'oldest'));
      const younger = h.accepted(h.sut.trigger('crowd', { type: 'message' }, 'younger'));
      await waitFor('both model requests', () => h.server.completionRequests.length === 2, {
        intervalMs: 20,
      });
      const newest = h.sut.trigger('crowd', { type: 'message' }, 'newest');

      expect(newest).toMatchObject({ accepted: true, queued: false });
      expect(h.stores.runs.get(oldest)).toMatchObject({
        status: 'interrupted',
        error: 'interrupted by a newer run (the agent is set to interrupt when busy)',
      });
      expect(h.stores.runs.get(younger)?.status).toBe('running');
      expect(await h.finished(younger)).toMatchObject({ status: 'succeeded', input: 'younger' });
      expect(await h.finished(h.accepted(newest))).toMatchObject({ status: 'succeeded', input: 'newest' });
      expect(h.sut.status().crowd?.status).toBe('idle');
    });

    it('remove interrupts every parallel run of the agent and waits for their processes', async () => {
      h.sut.upsert(agent('swarm', { concurrency: { maxParallel: 3 } }));
      h.behaviours.set('swarm', () => ({ kind: 'text', text: 'x', delayMs: 5_000 }));
      const runIds = [1, 2, 3].map(() => h.accepted(h.sut.trigger('swarm', { type: 'message' })));
      await waitFor('three model requests', () => h.server.completionRequests.length === 3, {
        intervalMs: 20,
      });
      const pids = h.sut.activeRuns().map((run) => run.pid!);
      expect(pids).toHaveLength(3);

      await h.sut.remove('swarm');

      expect(pids.filter(isAlive)).toEqual([]);
      expect(runIds.map((id) => h.stores.runs.get(id)?.status)).toEqual([
        'interrupted',
        'interrupted',
        'interrupted',
      ]);
      expect(h.sut.activeRuns()).toEqual([]);
    });

    it('a lowered maxParallel holds: interrupt makes room down to the new limit', async () => {
      h.sut.upsert(agent('shrinks', { concurrency: { maxParallel: 2, onBusy: 'interrupt' } }));
      h.behaviours.set('shrinks', () => ({ kind: 'text', text: 'done', delayMs: 1_000 }));
      const older = [1, 2].map(() => h.accepted(h.sut.trigger('shrinks', { type: 'message' })));

      h.sut.upsert(agent('shrinks', { concurrency: { maxParallel: 1, onBusy: 'interrupt' } }));
      expect(h.sut.activeRuns()).toHaveLength(2); // runs in progress are not cut short by the change
      const newest = h.accepted(h.sut.trigger('shrinks', { type: 'message' }));

      expect(older.map((id) => h.stores.runs.get(id)?.status)).toEqual(['interrupted', 'interrupted']);
      expect(h.sut.activeRuns().map((run) => run.runId)).toEqual([newest]);
      expect((await h.finished(newest)).status).toBe('succeeded');
    });

    it('a larger maxParallel starts queued runs at once', async () => {
      h.sut.upsert(agent('grows', { concurrency: { maxParallel: 1, onBusy: 'enqueue' } }));
      h.behaviours.set('grows', () => ({ kind: 'text', text: 'done', delayMs: 1_500 }));
      const first = h.accepted(h.sut.trigger('grows', { type: 'message' }));
      const second = h.accepted(h.sut.trigger('grows', { type: 'message' }));
      expect(h.stores.runs.get(second)?.status).toBe('queued');

      h.sut.upsert(agent('grows', { concurrency: { maxParallel: 2, onBusy: 'enqueue' } }));

      expect(h.stores.runs.get(second)?.status).toBe('running');
      expect(h.sut.activeRuns()).toHaveLength(2);
      expect((await h.finished(first)).status).toBe('succeeded');
      expect((await h.finished(second)).status).toBe('succeeded');
    });
  });
});

describe('admissionOf', () => {
  const idle: AdmissionState = {
    concurrency: { maxParallel: 2, onBusy: 'enqueue', queueSize: 1 },
    activeRunIds: [],
    queued: 0,
    restarting: false,
    budgetBlock: undefined,
    stopping: false,
    inputLength: 5,
  };
  const sut = (change: Partial<AdmissionState> = {}) => admissionOf({ ...idle, ...change });

  it('starts a run while a parallel slot is free and nothing waits', () => {
    expect(sut()).toEqual({ action: 'start' });
    expect(sut({ activeRunIds: ['r1'] })).toEqual({ action: 'start' });
  });

  it('refuses while stopping, an input over 10000 characters (not recorded), and a blocked budget', () => {
    expect(sut({ stopping: true })).toEqual({ action: 'reject', reason: STOPPING_REASON, keepInput: true });
    expect(sut({ inputLength: 10_001 })).toEqual({
      action: 'reject',
      reason: 'the input is longer than 10000 characters',
      keepInput: false,
    });
    expect(sut({ budgetBlock: 'used up' })).toEqual({ action: 'reject', reason: 'used up', keepInput: true });
  });

  it('queues behind a restart backoff or runs already waiting, up to queueSize', () => {
    expect(sut({ restarting: true })).toEqual({ action: 'enqueue' });
    expect(sut({ activeRunIds: ['r1', 'r2'] })).toEqual({ action: 'enqueue' });
    expect(sut({ activeRunIds: ['r1', 'r2'], queued: 1 })).toEqual({
      action: 'reject',
      reason: "the agent's queue is full (1 run waiting)",
      keepInput: true,
    });
  });

  it('interrupts the oldest runs down to the limit, but not during a restart backoff', () => {
    const interrupt = { maxParallel: 1, onBusy: 'interrupt', queueSize: 1 } as const;
    expect(sut({ concurrency: interrupt, activeRunIds: ['r1', 'r2'] })).toEqual({
      action: 'interrupt-oldest',
      count: 2,
    });
    expect(sut({ concurrency: interrupt, activeRunIds: ['r1'], restarting: true })).toEqual({
      action: 'enqueue',
    });
  });

  it('names the busy runs when it rejects', () => {
    const reject = { maxParallel: 2, onBusy: 'reject', queueSize: 0 } as const;
    expect(sut({ concurrency: reject, activeRunIds: ['r1', 'r2'] })).toEqual({
      action: 'reject',
      reason:
        'the agent is busy with runs r1, r2 (all 2 of its parallel runs; it is set to reject runs when busy)',
      keepInput: true,
    });
  });

  it('queues a message behind its conversation whatever onBusy says, and only while the queue has room', () => {
    const interrupt = { maxParallel: 1, onBusy: 'interrupt', queueSize: 1 } as const;
    const reject = { maxParallel: 2, onBusy: 'reject', queueSize: 1 } as const;
    // Busy and set to interrupt: the earlier message is not cut off, the new one waits for its answer.
    expect(sut({ concurrency: interrupt, activeRunIds: ['r1'], conversationBusy: true })).toEqual({
      action: 'enqueue',
    });
    // Room to run beside it, but the conversation's turns go in order.
    expect(sut({ concurrency: reject, activeRunIds: ['r1'], conversationBusy: true })).toEqual({
      action: 'enqueue',
    });
    expect(sut({ concurrency: reject, activeRunIds: ['r1'], queued: 1, conversationBusy: true })).toEqual({
      action: 'reject',
      reason: "the agent's queue is full (1 run waiting)",
      keepInput: true,
    });
  });
});
