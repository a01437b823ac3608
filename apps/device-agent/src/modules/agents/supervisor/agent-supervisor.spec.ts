import { describe, expect, it } from 'vitest';
import { isAlive, toolLoopResponder } from '@agentbox/test-support';
import { STOPPING_REASON } from './admission-policy.js';
import { agent, agentOf, useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

describe('AgentSupervisor', () => {
  const h = useSupervisorHarness();

  it('runs an agent that calls a tool and answers: events in order, usage recorded, no process left', async () => {
    h.sut.upsert(agent('keeper', { tools: [{ tool: 'memory' }] }));
    h.behaviours.set(
      'keeper',
      toolLoopResponder({
        toolName: 'memory',
        args: { op: 'set', key: 'mood', value: 'good' },
        answer: 'Noted.',
      }),
    );

    const runId = h.accepted(
      h.sut.trigger('keeper', { type: 'message', detail: 'cmd-1' }, 'remember my mood'),
    );
    const record = await h.finished(runId);

    expect(record).toMatchObject({
      status: 'succeeded',
      output: 'Noted.',
      input: 'remember my mood',
      steps: 2,
      trigger: { type: 'message', detail: 'cmd-1' },
    });
    expect(h.stores.memory.get('keeper', 'mood')).toBe('good');
    const events = h.stores.runs.events(runId);
    expect(events.map((e) => [e.index, e.type, e.name])).toEqual([
      [0, 'status', 'running'],
      [1, 'model', 'test-model'],
      [2, 'tool-call', 'memory'],
      [3, 'tool-result', 'memory'],
      [4, 'model', 'test-model'],
      [5, 'text', undefined],
      [6, 'status', 'succeeded'],
    ]);
    expect(events[2]!.data).toEqual({ op: 'set', key: 'mood', value: 'good' });
    expect(events[3]!.data).toEqual({ key: 'mood', stored: true });
    expect(events[5]!.data).toBe('Noted.');
    expect(events[1]!.inputTokens).toBeGreaterThan(0);
    expect(h.reporter.eventsOf(runId)).toEqual(events);

    const usage = h.stores.usage.list({ agentId: 'keeper' });
    expect(usage).toHaveLength(2);
    expect(usage.every((u) => u.runId === runId)).toBe(true);
    expect(record.usage).toEqual({
      inputTokens: usage[0]!.inputTokens + usage[1]!.inputTokens,
      outputTokens: usage[0]!.outputTokens + usage[1]!.outputTokens,
    });
    expect(h.sut.status().keeper).toMatchObject({
      status: 'idle',
      lastRunStatus: 'succeeded',
      tokensToday: record.usage.inputTokens + record.usage.outputTokens,
      queued: 0,
    });
    // Reported when it started and when it ended.
    expect(h.reporter.runs.filter((r) => r.id === runId).map((r) => r.status)).toEqual([
      'running',
      'succeeded',
    ]);
    expect(h.sut.activeRuns()).toEqual([]);
  });

  it('returns a refused http.fetch to the model as an error, records it, and the run goes on', async () => {
    h.sut.upsert(agent('fetcher', { tools: [{ tool: 'http.fetch', allowHosts: ['*.example.com'] }] }));
    h.behaviours.set(
      'fetcher',
      toolLoopResponder({
        toolName: 'http_fetch',
        args: { url: `http://127.0.0.1:${h.server.port}/v1/models` },
        answer: 'Could not fetch.',
      }),
    );

    const runId = h.accepted(h.sut.trigger('fetcher', { type: 'webhook' }, 'fetch it'));
    const record = await h.finished(runId);

    expect(record.status).toBe('succeeded');
    const result = h.stores.runs.events(runId).find((e) => e.type === 'tool-result');
    expect(result).toMatchObject({
      name: 'http.fetch',
      error: `127.0.0.1:${h.server.port} is not an allowed host (allowed: *.example.com)`,
    });
    // The refusal reached the model as the tool's result.
    const second = h.server.completionRequests.filter((r) => agentOf(r) === 'fetcher')[1];
    const toolMessage = second?.body?.messages?.find((m) => m.role === 'tool');
    expect(JSON.stringify(toolMessage?.content)).toContain('is not an allowed host');
    expect(h.server.requests.filter((r) => r.path === '/v1/models')).toEqual([]);
  });

  it('remove interrupts the running run; stop interrupts the rest', async () => {
    h.sut.upsert(agent('leaving'));
    h.sut.upsert(agent('staying'));
    h.behaviours.set('leaving', () => ({ kind: 'text', text: 'x', delayMs: 5_000 }));
    h.behaviours.set('staying', () => ({ kind: 'text', text: 'x', delayMs: 5_000 }));
    const leaving = h.accepted(h.sut.trigger('leaving', { type: 'message' }));
    const staying = h.accepted(h.sut.trigger('staying', { type: 'message' }));
    await h.inFlight('leaving');
    const pid = h.pidOf('leaving');

    await h.sut.remove('leaving');

    expect(isAlive(pid)).toBe(false);
    expect(h.stores.runs.get(leaving)).toMatchObject({
      status: 'interrupted',
      error: 'the agent was removed from this box',
    });
    expect(Object.keys(h.sut.status())).toEqual(['staying']);
    expect(h.sut.trigger('leaving', { type: 'message' })).toEqual({
      accepted: false,
      reason: 'no agent "leaving" is installed on this box',
    });

    await h.sut.stop();
    expect(h.stores.runs.get(staying)).toMatchObject({ status: 'interrupted', error: STOPPING_REASON });
    expect(h.sut.trigger('staying', { type: 'message' })).toEqual({
      accepted: false,
      reason: STOPPING_REASON,
    });
  });

  it('meters an answer that arrives just after its agent was removed, in the interrupted run', async () => {
    h.sut.upsert(agent('late'));
    // The provider answers (and bills) 300 ms after the request: inside the gateway's abort grace.
    h.behaviours.set('late', () => ({ kind: 'text', text: 'on its way', delayMs: 300 }));
    const runId = h.accepted(h.sut.trigger('late', { type: 'message' }));
    await h.inFlight('late');

    await h.sut.remove('late');

    const usage = h.stores.usage.list({ agentId: 'late' });
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ runId, outcome: 'ok', estimated: false });
    const tokens = { inputTokens: usage[0]!.inputTokens, outputTokens: usage[0]!.outputTokens };
    expect(h.stores.runs.get(runId)).toMatchObject({ status: 'interrupted', usage: tokens });
    // The interrupted run is reported again with the tokens, so the cloud's run adds up to its usage.
    expect(h.reporter.runs.filter((r) => r.id === runId).at(-1)).toMatchObject({
      status: 'interrupted',
      usage: tokens,
    });
    expect(h.server.completionRequests.find((r) => agentOf(r) === 'late')?.closedByClient).toBe(false);
  });
});
