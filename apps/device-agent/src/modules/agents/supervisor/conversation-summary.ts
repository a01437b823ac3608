import type { InstalledAgent, ModelCallRequest } from '../agents.contracts.js';
import type { ConversationTurn } from '../store/conversation-store.js';

/** A summary stays short: it goes with every later message of the conversation. */
export const SUMMARY_MAX_OUTPUT_TOKENS = 512;

const SUMMARY_INSTRUCTIONS =
  'You keep the memory of a conversation between a user and an assistant. Write a concise summary of ' +
  'the conversation so far: facts the user gave, decisions, open questions and commitments. Write it in ' +
  "the conversation's language, as plain prose of at most a few short paragraphs. Answer with the summary only.";

/**
 * The model call that folds turns dropped from a conversation's window into its summary (docs/protocol.md
 * section 11): the previous summary and the newly dropped turns in, the new summary out. It goes through
 * the run's gateway like any other call, so it is metered and budgeted as part of the run.
 */
export function summaryRequest(
  agent: InstalledAgent,
  runId: string,
  previous: string | undefined,
  dropped: readonly ConversationTurn[],
): ModelCallRequest {
  const transcript = dropped
    .map((turn) => `${turn.role === 'user' ? 'User' : 'Assistant'}: ${turn.content}`)
    .join('\n\n');
  const content =
    (previous ? `Summary so far:\n${previous}\n\nLater turns:\n` : 'Turns:\n') +
    transcript +
    '\n\nWrite the updated summary.';
  const definition = agent.definition;
  return {
    agentId: agent.id,
    runId,
    models: [definition.model, ...definition.fallbacks],
    system: SUMMARY_INSTRUCTIONS,
    messages: [{ role: 'user', content }],
    tools: [],
    maxOutputTokens: Math.min(SUMMARY_MAX_OUTPUT_TOKENS, definition.limits.maxOutputTokens),
    budget: definition.budget,
  };
}

/** The agent's instructions, and what its conversation came to before the turns the run gets. */
export function instructionsWithSummary(instructions: string, summary: string | undefined): string {
  if (!summary) return instructions;
  return `${instructions}\n\nSummary of the earlier part of this conversation:\n${summary}`;
}
