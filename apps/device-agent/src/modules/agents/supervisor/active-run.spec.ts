import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agent, agentOf, useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

describe('AgentSupervisor', () => {
  const h = useSupervisorHarness();

  it('fails a run that uses all its steps without a final answer', async () => {
    h.sut.upsert(agent('looper', { tools: [{ tool: 'memory' }], limits: { maxSteps: 2 } }));
    h.behaviours.set('looper', () => ({
      kind: 'tool-calls',
      calls: [{ name: 'memory', arguments: { op: 'list' } }],
    }));

    const record = await h.finished(h.accepted(h.sut.trigger('looper', { type: 'message' })));

    expect(record).toMatchObject({
      status: 'failed',
      steps: 2,
      error: 'the run used all of its 2 steps without a final answer',
    });
    expect(h.server.completionRequests.filter((r) => agentOf(r) === 'looper')).toHaveLength(2);
  });

  it('fails the run, not the device agent, when the run process sends a malformed message', async () => {
    const rogue = join(h.dir, 'rogue-worker.mjs');
    writeFileSync(
      rogue,
      "process.send({ type: 'model', requestId: -1, messages: 'all of them' });\nsetInterval(() => {}, 1000);\n",
    );
    await h.sut.stop();
    h.sut = h.supervisorWithWorker(rogue);
    h.sut.upsert(agent('rogue'));

    const record = await h.finished(h.accepted(h.sut.trigger('rogue', { type: 'message' })));

    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/^the run process sent a malformed message \(requestId: /);
    expect(h.sut.activeRuns()).toEqual([]);
  });

  it('fails a run of a conversation whose stored history the worker would refuse, before it starts', async () => {
    h.sut.upsert(agent('chat', { history: { maxTokens: 1_000_000 } }));
    // A turn longer than the start message allows (a damaged or hand-edited agents.db).
    h.stores.conversations.append({
      conversationId: 'conv-aaaa1',
      agentId: 'chat',
      runId: 'run-earlier',
      user: 'x'.repeat(1_000_001),
      assistant: 'ok',
    });

    const runId = h.accepted(h.sut.trigger('chat', { type: 'message' }, 'hello', 'conv-aaaa1'));
    const record = await h.finished(runId);

    expect(record).toMatchObject({
      status: 'failed',
      error: 'the conversation history on this box is unreadable',
    });
    expect(h.server.completionRequests.filter((r) => agentOf(r) === 'chat')).toEqual([]);
  });
});
