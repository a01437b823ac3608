import type { z } from 'zod';
import type { AgentDatabase } from './agent-database.js';
import { boundTextTokens, MESSAGE_FRAMING_TOKENS } from '../gateway/token-estimate.js';
import type { HistoryTurnSchema } from '../worker/ipc.js';

const DAY_MS = 86_400_000;

/** One earlier turn of a conversation, as the run worker gets it. */
export type ConversationTurn = z.infer<typeof HistoryTurnSchema>;

/** A message of a conversation and the run's final answer to it. */
export interface ConversationExchange {
  conversationId: string;
  agentId: string;
  runId: string;
  user: string;
  assistant: string;
}

/**
 * Conversations in agents.db: each message answered by a run that succeeded, with that answer, in the
 * order they were answered. A conversation belongs to one agent; another agent never reads its turns.
 * A message whose run did not succeed leaves no turn, so the history is always question, answer, ...
 */
export class ConversationStore {
  constructor(
    private readonly db: AgentDatabase,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Stores a message and its answer; a replay of the same run is stored once. */
  append(exchange: ConversationExchange): void {
    const now = this.clock();
    this.db.transaction(() => {
      const owner = this.db
        .prepare('SELECT agent_id FROM conversations WHERE id = ?')
        .get(exchange.conversationId) as { agent_id: string } | undefined;
      if (owner && owner.agent_id !== exchange.agentId) {
        throw new Error(
          `conversation ${exchange.conversationId} belongs to agent ${owner.agent_id}, not ${exchange.agentId}`,
        );
      }
      this.db
        .prepare(
          `INSERT INTO conversations (id, agent_id, created_at, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at`,
        )
        .run(exchange.conversationId, exchange.agentId, now, now);
      const insert = this.db.prepare(
        `INSERT OR IGNORE INTO conversation_turns (conversation_id, run_id, role, content, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      );
      insert.run(exchange.conversationId, exchange.runId, 'user', exchange.user, now);
      insert.run(exchange.conversationId, exchange.runId, 'assistant', exchange.assistant, now);
    })();
  }

  /**
   * The newest turns of the agent's conversation that fit in `maxTokens` (counted with the gateway's
   * cheap upper bound, framing included), oldest first, starting with a message: older turns are
   * dropped, never cut in half.
   */
  history(conversationId: string, agentId: string, maxTokens: number): ConversationTurn[] {
    const rows = this.db
      .prepare(
        `SELECT t.role, t.content FROM conversation_turns t
         JOIN conversations c ON c.id = t.conversation_id
         WHERE t.conversation_id = ? AND c.agent_id = ?
         ORDER BY t.id DESC`,
      )
      .iterate(conversationId, agentId) as IterableIterator<ConversationTurn>;
    const kept: ConversationTurn[] = [];
    let used = 0;
    for (const row of rows) {
      const tokens = MESSAGE_FRAMING_TOKENS + boundTextTokens(row.content);
      if (used + tokens > maxTokens) break;
      used += tokens;
      kept.push({ role: row.role, content: row.content });
    }
    kept.reverse();
    // An answer without its message would be out of context.
    while (kept[0]?.role === 'assistant') kept.shift();
    return kept;
  }

  /** Retention: conversations without a turn for `maxAgeDays` go, with their turns. Returns how many. */
  prune(maxAgeDays: number): number {
    const cutoff = this.clock() - maxAgeDays * DAY_MS;
    return this.db.prepare('DELETE FROM conversations WHERE updated_at < ?').run(cutoff).changes;
  }
}
