import type { RunRecord } from '@agentbox/schemas';
import { errorText } from '../../../common/error-text.js';
import type { InstalledAgent } from '../agents.contracts.js';
import { NO_HISTORY, type ConversationHistory, type ConversationStore } from '../store/conversation-store.js';

/** The history a conversation's run gets when its agent sets no `history.maxTokens`. */
const DEFAULT_HISTORY_MAX_TOKENS = 4_000;

/**
 * A conversation's turns for the supervisor: the earlier turns a run of it gets, and its answer kept
 * for the next. A store that fails is logged, never fatal to the run: it runs without its history, or
 * its turn is missing from the next run's.
 */
export class ConversationTurns {
  constructor(
    private readonly store: Pick<ConversationStore, 'history' | 'append' | 'saveSummary'> | undefined,
    private readonly logger: { warn(message: string): void } | undefined,
  ) {}

  /** What the run's conversation gets of its earlier turns; none when they cannot be read. */
  historyOf(agent: InstalledAgent, record: RunRecord): ConversationHistory {
    if (record.conversationId === undefined || !this.store) return NO_HISTORY;
    const maxTokens = agent.definition.history?.maxTokens ?? DEFAULT_HISTORY_MAX_TOKENS;
    try {
      const history = this.store.history(record.conversationId, agent.id, maxTokens);
      // Without summaries, dropped turns are just dropped (docs/protocol.md section 11).
      return agent.definition.history?.summarize === false
        ? { ...history, summary: undefined, unsummarized: [], droppedThrough: undefined }
        : history;
    } catch (error) {
      this.logger?.warn(
        `the history of conversation ${record.conversationId} could not be read: ${errorText(error)}`,
      );
      return NO_HISTORY;
    }
  }

  /** Keeps the summary a run made of its conversation's turns through `throughTurnId`. */
  keepSummary(record: RunRecord, throughTurnId: number, summary: string): void {
    const conversationId = record.conversationId;
    if (conversationId === undefined || !this.store) return;
    try {
      this.store.saveSummary(conversationId, throughTurnId, summary);
    } catch (error) {
      this.logger?.warn(
        `the summary of conversation ${conversationId} could not be stored: ${errorText(error)}`,
      );
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
