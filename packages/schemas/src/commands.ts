import { z } from 'zod';
import { AgentIdSchema, ConversationIdSchema } from './agents.js';

/**
 * The commands a box answers on `down/commands/{commandId}` (docs/protocol.md section 6), by name. Both
 * sides name a command through this table, so a renamed command fails to compile instead of timing out.
 */
export const COMMAND_NAMES = {
  /** Answers `{ pong: true, ts }`: a round trip through the box's link. */
  ping: 'ping',
  /** Publishes `up/state` now and answers with the desired version and the current state. */
  reportState: 'report-state',
  /** Starts a run of one agent with the given input (a task from the console). */
  agentRun: 'agent.run',
  /** Deletes a conversation's turns and summary from the box; answers `{ forgotten }`. */
  conversationForget: 'conversation.forget',
} as const;
export type CommandName = (typeof COMMAND_NAMES)[keyof typeof COMMAND_NAMES];

/**
 * Arguments of the `agent.run` command: a task sent from the console to one agent on the box. With
 * `conversationId` the input is a message of that conversation: the run gets its earlier turns. Unknown
 * keys are dropped, not refused, so a box older than `conversationId` runs the message without history.
 */
export const AgentRunCommandArgsSchema = z.object({
  agentId: AgentIdSchema,
  input: z.string().min(1).max(10_000),
  conversationId: ConversationIdSchema.optional(),
});
export type AgentRunCommandArgs = z.infer<typeof AgentRunCommandArgsSchema>;

/** Arguments of the `conversation.forget` command: a conversation deleted in the cloud. */
export const ConversationForgetCommandArgsSchema = z.object({
  conversationId: ConversationIdSchema,
});
export type ConversationForgetCommandArgs = z.infer<typeof ConversationForgetCommandArgsSchema>;
