import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '@agentbox/test-support';
import { agent, agentOf, useSupervisorHarness } from '../../../../test/support/supervisor-harness.js';

/** The user and assistant messages a model request carried, system prompt left out. */
const turnsOf = (request: RecordedRequest | undefined) =>
  (request?.body?.messages ?? [])
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : ''}`);

describe('AgentSupervisor conversations', () => {
  const h = useSupervisorHarness();
  const message = { type: 'message' as const };
  /** Answers each message with "re: <message>" after `delayMs`. */
  const echo = (delayMs = 0) =>
    h.behaviours.set('chat', (request) => {
      const users = (request.body?.messages ?? []).filter((m) => m.role === 'user');
      const last = users[users.length - 1]?.content;
      return { kind: 'text', text: `re: ${typeof last === 'string' ? last : ''}`, delayMs };
    });
  const requests = () => h.server.completionRequests.filter((r) => agentOf(r) === 'chat');

  it('gives the second message of a conversation the first turn, and another conversation none', async () => {
    h.sut.upsert(agent('chat', { concurrency: { maxParallel: 2 } }));
    echo();

    const first = await h.finished(
      h.accepted(h.sut.trigger('chat', message, 'My name is Ada.', 'conv-aaaa1')),
    );
    expect(first).toMatchObject({ status: 'succeeded', conversationId: 'conv-aaaa1' });
    await h.finished(h.accepted(h.sut.trigger('chat', message, 'What is my name?', 'conv-aaaa1')));
    await h.finished(h.accepted(h.sut.trigger('chat', message, 'Who am I?', 'conv-bbbb2')));

    const [one, two, other] = requests();
    expect(turnsOf(one)).toEqual(['user: My name is Ada.']);
    expect(turnsOf(two)).toEqual([
      'user: My name is Ada.',
      'assistant: re: My name is Ada.',
      'user: What is my name?',
    ]);
    expect(turnsOf(other)).toEqual(['user: Who am I?']);
  });

  it('answers the messages of one conversation in order, while another conversation runs beside them', async () => {
    h.sut.upsert(agent('chat', { concurrency: { maxParallel: 3 } }));
    echo(300);

    const a1 = h.accepted(h.sut.trigger('chat', message, 'a1', 'conv-aaaa1'));
    const queued = h.sut.trigger('chat', message, 'a2', 'conv-aaaa1');
    const b1 = h.accepted(h.sut.trigger('chat', message, 'b1', 'conv-bbbb2'));
    expect(queued).toMatchObject({ accepted: true, queued: true });
    expect(
      h.sut
        .activeRuns()
        .map((run) => run.runId)
        .sort(),
    ).toEqual([a1, b1].sort());

    const a2 = h.accepted(queued);
    await h.finished(a2);
    const order = requests().map((r) => turnsOf(r).at(-1));
    expect(order.indexOf('user: a2')).toBeGreaterThan(order.indexOf('user: a1'));
    expect(turnsOf(requests().find((r) => turnsOf(r).at(-1) === 'user: a2'))).toEqual([
      'user: a1',
      'assistant: re: a1',
      'user: a2',
    ]);
    expect((await h.finished(b1)).status).toBe('succeeded');
  });

  it('drops the oldest turns beyond history.maxTokens, and keeps no turn of a failed run', async () => {
    // Each 30-character turn is at most 14 tokens with framing: 30 tokens hold one exchange.
    h.sut.upsert(agent('chat', { history: { maxTokens: 30, summarize: false } }));
    echo();
    const say = async (text: string) =>
      h.finished(h.accepted(h.sut.trigger('chat', message, text.padEnd(26, '.'), 'conv-aaaa1')));
    await say('first');
    await say('second');
    h.behaviours.set('chat', () => ({ kind: 'error', status: 400, message: 'no' }));
    expect((await say('failing')).status).toBe('failed');
    echo();
    await say('third');

    expect(turnsOf(requests().at(-1))).toEqual([
      `user: ${'second'.padEnd(26, '.')}`,
      `assistant: re: ${'second'.padEnd(26, '.')}`,
      `user: ${'third'.padEnd(26, '.')}`,
    ]);
  });

  it('summarizes dropped turns through the metered gateway and gives the summary to later runs', async () => {
    h.sut.upsert(agent('chat', { history: { maxTokens: 30 } }));
    const systemOf = (request: RecordedRequest | undefined) => {
      const system = request?.body?.messages?.find((m) => m.role === 'system')?.content;
      return typeof system === 'string' ? system : '';
    };
    const summaries: string[] = [];
    echo();
    // The summary's request carries its own instructions, not the agent's: the server sees no agent name.
    h.behaviours.set('', (request) => {
      const last = request.body?.messages?.at(-1)?.content;
      if (!systemOf(request).startsWith('You keep the memory') || typeof last !== 'string') return undefined;
      summaries.push(last);
      return { kind: 'text', text: `summary ${summaries.length}` };
    });
    const say = async (text: string) =>
      h.finished(h.accepted(h.sut.trigger('chat', message, text.padEnd(26, '.'), 'conv-aaaa1')));

    const first = await say('first');
    const second = await say('second');
    expect(summaries).toEqual([]);
    const third = await say('third');
    // The first exchange no longer fits: it is summarized, once, before the third message is answered.
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toContain(`User: ${'first'.padEnd(26, '.')}`);
    expect(summaries[0]).toContain(`Assistant: re: ${'first'.padEnd(26, '.')}`);
    expect(systemOf(requests().at(-1))).toContain(
      'Summary of the earlier part of this conversation:\nsummary 1',
    );
    expect(turnsOf(requests().at(-1))).toEqual([
      `user: ${'second'.padEnd(26, '.')}`,
      `assistant: re: ${'second'.padEnd(26, '.')}`,
      `user: ${'third'.padEnd(26, '.')}`,
    ]);
    // The summary's tokens are the run's: two model calls, both counted.
    expect(third.usage.inputTokens).toBeGreaterThan(second.usage.inputTokens);
    expect(first.steps).toBe(1);
    expect(third.steps).toBe(1);

    // The next run folds only the newly dropped exchange into the summary so far.
    await say('fourth');
    expect(summaries).toHaveLength(2);
    expect(summaries[1]).toContain('Summary so far:\nsummary 1');
    expect(summaries[1]).toContain(`User: ${'second'.padEnd(26, '.')}`);
    expect(summaries[1]).not.toContain('first');
    expect(systemOf(requests().at(-1))).toContain('summary 2');
  });
});
