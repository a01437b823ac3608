import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type CommandMessage } from '@agentbox/schemas';
import { useTempDir } from '@agentbox/test-support/vitest';
import { openAgentStores } from '../store/agent-stores.js';
import { forgetConversationCommand } from './conversation-forget-command.js';

const command = (args: Record<string, unknown>): CommandMessage => ({
  v: SCHEMA_VERSION,
  id: 'cmd-00000001',
  name: 'conversation.forget',
  args,
  issuedAt: Date.now(),
  expiresAt: Date.now() + 60_000,
});

describe('conversation.forget', () => {
  const dir = useTempDir('conversation-forget-');

  it('deletes the turns and summary of the conversation, and only of that one', () => {
    const stores = openAgentStores(dir.path);
    try {
      const keep = (conversationId: string, runId: string) =>
        stores.conversations.append({
          conversationId,
          agentId: 'chat',
          runId,
          user: 'hi',
          assistant: 'hello',
        });
      keep('conv-aaaa1', 'run-0001');
      keep('conv-bbbb2', 'run-0002');
      stores.conversations.saveSummary('conv-aaaa1', 1, 'a summary');
      const forget = (id: string) => stores.conversations.forget(id);

      expect(forgetConversationCommand(command({ conversationId: 'conv-aaaa1' }), forget)).toEqual({
        status: 'succeeded',
        output: { forgotten: true },
      });
      expect(stores.conversations.history('conv-aaaa1', 'chat', 10_000).turns).toEqual([]);
      expect(stores.conversations.history('conv-bbbb2', 'chat', 10_000).turns).toHaveLength(2);
      const rows = stores.db
        .prepare(
          'SELECT (SELECT COUNT(*) FROM conversation_turns) AS turns, (SELECT COUNT(*) FROM conversation_summaries) AS summaries',
        )
        .get() as { turns: number; summaries: number };
      expect(rows).toEqual({ turns: 2, summaries: 0 });
      // Nothing left to forget is no error.
      expect(forgetConversationCommand(command({ conversationId: 'conv-aaaa1' }), forget).output).toEqual({
        forgotten: false,
      });
    } finally {
      stores.close();
    }
  });

  it('rejects bad arguments and fails while the runtime is not running', () => {
    expect(forgetConversationCommand(command({ conversationId: '../x' }), () => true)).toMatchObject({
      status: 'rejected',
      error: expect.stringContaining('conversationId'),
    });
    expect(forgetConversationCommand(command({ conversationId: 'conv-aaaa1' }), undefined)).toMatchObject({
      status: 'failed',
    });
  });
});
