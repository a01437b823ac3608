import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { openAgentStores, type AgentStores } from './agent-stores.js';

const DAY = 86_400_000;

describe('ConversationStore', () => {
  const dir = useTempDir('conversation-store-');
  let now: number;
  let stores: AgentStores;

  beforeEach(() => {
    now = Date.UTC(2026, 0, 10, 12);
    stores = openAgentStores(dir.path, { clock: () => now });
  });

  afterEach(() => {
    stores.close();
  });

  const exchange = (
    conversationId: string,
    runId: string,
    user: string,
    assistant: string,
    agentId = 'chat',
  ) => stores.conversations.append({ conversationId, agentId, runId, user, assistant });

  const turnsOf = (conversationId: string, agentId: string, maxTokens: number) =>
    stores.conversations.history(conversationId, agentId, maxTokens).turns;

  it('keeps exchanges in order, once per run, and across a reopen of agents.db', () => {
    exchange('conv-0001', 'run-0001', 'My name is Ada.', 'Hello Ada.');
    exchange('conv-0001', 'run-0002', 'What is my name?', 'Ada.');
    exchange('conv-0001', 'run-0002', 'What is my name?', 'Ada.');
    stores.close();
    stores = openAgentStores(dir.path, { clock: () => now });

    expect(turnsOf('conv-0001', 'chat', 10_000)).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello Ada.' },
      { role: 'user', content: 'What is my name?' },
      { role: 'assistant', content: 'Ada.' },
    ]);
  });

  it('never mixes conversations, nor lets another agent read one', () => {
    exchange('conv-0001', 'run-0001', 'one', 'first');
    exchange('conv-0002', 'run-0002', 'two', 'second');

    expect(turnsOf('conv-0002', 'chat', 10_000)).toEqual([
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'second' },
    ]);
    expect(turnsOf('conv-0001', 'other', 10_000)).toEqual([]);
    expect(() => exchange('conv-0001', 'run-0003', 'mine now', 'no', 'other')).toThrow(
      /belongs to agent chat/,
    );
  });

  it('keeps the newest turns that fit the token budget, starting with a message', () => {
    // 30 bytes of text: 10 tokens by the 3-bytes bound, plus 4 of framing.
    const text = (label: string) => label.padEnd(30, '.');
    exchange('conv-0001', 'run-0001', text('q1'), text('a1'));
    exchange('conv-0001', 'run-0002', text('q2'), text('a2'));
    exchange('conv-0001', 'run-0003', text('q3'), text('a3'));

    expect(turnsOf('conv-0001', 'chat', 14 * 6)).toHaveLength(6);
    // Room for three turns: the oldest of them would be an answer without its question, so two.
    expect(turnsOf('conv-0001', 'chat', 14 * 3).map((t) => t.content)).toEqual([text('q3'), text('a3')]);
    expect(turnsOf('conv-0001', 'chat', 14 * 4).map((t) => t.content)).toEqual([
      text('q2'),
      text('a2'),
      text('q3'),
      text('a3'),
    ]);
    expect(turnsOf('conv-0001', 'chat', 13)).toEqual([]);
  });

  it('gives the dropped turns to summarize, then the summary and only the turns dropped after it', () => {
    const text = (label: string) => label.padEnd(30, '.');
    exchange('conv-0001', 'run-0001', text('q1'), text('a1'));
    exchange('conv-0001', 'run-0002', text('q2'), text('a2'));
    exchange('conv-0001', 'run-0003', text('q3'), text('a3'));
    expect(stores.conversations.history('conv-0001', 'chat', 14 * 6)).toMatchObject({
      summary: undefined,
      unsummarized: [],
      droppedThrough: undefined,
    });

    // Room for three turns (q3, a3 and a2): a2 without its question goes with everything older.
    const first = stores.conversations.history('conv-0001', 'chat', 14 * 3);
    expect(first.summary).toBeUndefined();
    expect(first.unsummarized.map((t) => t.content)).toEqual([
      text('q1'),
      text('a1'),
      text('q2'),
      text('a2'),
    ]);
    stores.conversations.saveSummary('conv-0001', first.droppedThrough!, 'Ada asked q1 and q2.');

    exchange('conv-0001', 'run-0004', text('q4'), text('a4'));
    const second = stores.conversations.history('conv-0001', 'chat', 14 * 3);
    expect(second.turns.map((t) => t.content)).toEqual([text('q4'), text('a4')]);
    expect(second.summary).toBe('Ada asked q1 and q2.');
    expect(second.unsummarized.map((t) => t.content)).toEqual([text('q3'), text('a3')]);
    // An older summary never replaces a newer one.
    stores.conversations.saveSummary('conv-0001', first.droppedThrough! - 1, 'stale');
    expect(stores.conversations.history('conv-0001', 'chat', 14 * 3).summary).toBe('Ada asked q1 and q2.');
    // Everything fits again: the turns themselves, no summary.
    expect(stores.conversations.history('conv-0001', 'chat', 10_000)).toMatchObject({
      summary: undefined,
      unsummarized: [],
    });
  });

  it('prunes conversations idle for longer than the retention, with their turns', () => {
    exchange('conv-0001', 'run-0001', 'old', 'old answer');
    now += 5 * DAY;
    exchange('conv-0002', 'run-0002', 'new', 'new answer');
    now += 3 * DAY;

    expect(stores.conversations.prune(7)).toBe(1);
    expect(turnsOf('conv-0001', 'chat', 10_000)).toEqual([]);
    expect(turnsOf('conv-0002', 'chat', 10_000)).toHaveLength(2);
    const turns = stores.db.prepare('SELECT COUNT(*) AS n FROM conversation_turns').get() as { n: number };
    expect(turns.n).toBe(2);
  });
});
