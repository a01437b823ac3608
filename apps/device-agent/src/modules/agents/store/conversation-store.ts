import type { z } from 'zod';
import type { AgentDatabase } from './agent-database.js';
import { boundTextTokens, MESSAGE_FRAMING_TOKENS } from '../gateway/token-estimate.js';
import type { HistoryTurnSchema } from '../worker/ipc.js';

const DAY_MS = 86_400_000;

/** One earlier turn of a conversation, as the run worker gets it. */
export type ConversationTurn = z.infer<typeof HistoryTurnSchema>;

/** Dropped turns a new summary reads at most: the newest of them when more were dropped at once. */
export const SUMMARY_INPUT_MAX_TOKENS = 16_000;

/** What a run of a conversation gets of its earlier turns (ConversationStore.history). */
export interface ConversationHistory {
  /** The newest turns that fit, oldest first. */
  turns: ConversationTurn[];
  /** What the conversation's turns before `turns` came to, when some were dropped and summarized. */
  summary: string | undefined;
  /** Dropped turns the summary does not cover yet, oldest first. */
  unsummarized: ConversationTurn[];
  /** The id of the newest of `unsummarized`: a summary made from them covers the turns through it. */
  droppedThrough: number | undefined;
}

export const NO_HISTORY: ConversationHistory = {
  turns: [],
  summary: undefined,
  unsummarized: [],
  droppedThrough: undefined,
};

interface TurnRow extends ConversationTurn {
  id: number;
}

const toTurn = (row: TurnRow): ConversationTurn => ({ role: row.role, content: row.content });

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
   * dropped, never cut in half. With them comes what stands for the dropped ones: the conversation's
   * summary, and the dropped turns it does not cover yet (the newest of them, up to
   * SUMMARY_INPUT_MAX_TOKENS), from which the run makes the next summary.
   */
  history(conversationId: string, agentId: string, maxTokens: number): ConversationHistory {
    const rows = this.db
      .prepare(
        `SELECT t.id, t.role, t.content FROM conversation_turns t
         JOIN conversations c ON c.id = t.conversation_id
         WHERE t.conversation_id = ? AND c.agent_id = ?
         ORDER BY t.id DESC`,
      )
      .iterate(conversationId, agentId) as IterableIterator<TurnRow>;
    const summary = this.db
      .prepare('SELECT through_turn_id, content FROM conversation_summaries WHERE conversation_id = ?')
      .get(conversationId) as { through_turn_id: number; content: string } | undefined;
    const kept: TurnRow[] = [];
    const dropped: TurnRow[] = [];
    let used = 0;
    let full = false;
    let droppedTokens = 0;
    for (const row of rows) {
      const tokens = MESSAGE_FRAMING_TOKENS + boundTextTokens(row.content);
      if (!full && used + tokens <= maxTokens) {
        used += tokens;
        kept.push(row);
        continue;
      }
      full = true;
      if ((summary && row.id <= summary.through_turn_id) || droppedTokens + tokens > SUMMARY_INPUT_MAX_TOKENS)
        break;
      droppedTokens += tokens;
      dropped.push(row);
    }
    kept.reverse();
    // An answer without its message would be out of context.
    while (kept[0]?.role === 'assistant') {
      const answer = kept.shift()!;
      full = true;
      if (!summary || answer.id > summary.through_turn_id) dropped.unshift(answer);
    }
    dropped.reverse();
    return {
      turns: kept.map(toTurn),
      summary: full ? summary?.content : undefined,
      unsummarized: dropped.map(toTurn),
      droppedThrough: dropped.at(-1)?.id,
    };
  }

  /** Keeps the summary of the conversation's turns through `throughTurnId`, replacing the one before. */
  saveSummary(conversationId: string, throughTurnId: number, content: string): void {
    this.db
      .prepare(
        `INSERT INTO conversation_summaries (conversation_id, through_turn_id, content, updated_at)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET through_turn_id = excluded.through_turn_id,
           content = excluded.content, updated_at = excluded.updated_at
         WHERE excluded.through_turn_id > conversation_summaries.through_turn_id`,
      )
      .run(conversationId, throughTurnId, content, this.clock());
  }

  /** Deletes the conversation with its turns and summary (deleted in the cloud); false when it was not here. */
  forget(conversationId: string): boolean {
    return this.db.prepare('DELETE FROM conversations WHERE id = ?').run(conversationId).changes > 0;
  }

  /** Retention: conversations without a turn for `maxAgeDays` go, with their turns. Returns how many. */
  prune(maxAgeDays: number): number {
    const cutoff = this.clock() - maxAgeDays * DAY_MS;
    return this.db.prepare('DELETE FROM conversations WHERE updated_at < ?').run(cutoff).changes;
  }
}
