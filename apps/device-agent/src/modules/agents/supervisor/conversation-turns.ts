import type { RunRecord } from '@agentbox/schemas';
import { errorText } from '../../../common/error-text.js';
import type { InstalledAgent } from '../agents.contracts.js';
import type { ConversationStore, ConversationTurn } from '../store/conversation-store.js';

/** The history a conversation's run gets when its agent sets no `history.maxTokens`. */
const DEFAULT_HISTORY_MAX_TOKENS = 4_000;

/**
 * A conversation's turns for the supervisor: the earlier turns a run of it gets, and its answer kept
 * for the next. A store that fails is logged, never fatal to the run: it runs without its history, or
 * its turn is missing from the next run's.
 */
export class ConversationTurns {
  constructor(
    private readonly store: Pick<ConversationStore, 'history' | 'append'> | undefined,
    private readonly logger: { warn(message: string): void } | undefined,
  ) {}

  /** The earlier turns the run's conversation gets, oldest first; none when they cannot be read. */
  historyOf(agent: InstalledAgent, record: RunRecord): ConversationTurn[] {
    if (record.conversationId === undefined || !this.store) return [];
    const maxTokens = agent.definition.history?.maxTokens ?? DEFAULT_HISTORY_MAX_TOKENS;
    try {
      return this.store.history(record.conversationId, agent.id, maxTokens);
    } catch (error) {
      this.logger?.warn(
        `the history of conversation ${record.conversationId} could not be read: ${errorText(error)}`,
      );
      return [];
    }
  }

  /** Keeps a succeeded run's input and answer as its conversation's next turn. */
  keep(agent: InstalledAgent, record: RunRecord, input: string, output: string): void {
    const conversationId = record.conversationId;
    if (conversationId === undefined || !this.store) return;
    try {
      this.store.append({
        conversationId,
        agentId: agent.id,
        runId: record.id,
        user: input,
        assistant: output,
      });
    } catch (error) {
      this.logger?.warn(`a turn of conversation ${conversationId} could not be stored: ${errorText(error)}`);
    }
  }
}

/**
 * Where the next queued run to start is: the first whose conversation has no run in progress (one
 * conversation, one run at once, so each run sees the turn before it); -1 when every one waits.
 */
export function nextStartable(
  queue: ReadonlyArray<{ record: RunRecord }>,
  active: ReadonlyArray<{ record: RunRecord }>,
): number {
  return queue.findIndex(
    (queued) =>
      queued.record.conversationId === undefined ||
      !active.some((run) => run.record.conversationId === queued.record.conversationId),
  );
}

/** Whether a run of the conversation is in progress or waiting (none for a run outside any). */
export function conversationBusy(
  conversationId: string | undefined,
  runs: ReadonlyArray<{ record: RunRecord }>,
): boolean {
  return conversationId !== undefined && runs.some((run) => run.record.conversationId === conversationId);
}
