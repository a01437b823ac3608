import { z } from 'zod';
import type { ChatMessage, ToolCall } from '../agents.contracts.js';

/**
 * The messages between the device agent (parent) and a run worker (child) over the fork IPC channel.
 *
 *   child  ──ready──►  parent
 *   child  ◄──start──  parent             the run's input, its conversation's earlier turns, step limit
 *   child  ──model──►  parent  ──►  ModelGatewayPort   (the parent adds system prompt, tools, models, budget)
 *   child  ◄──model-result──
 *   child  ──tool───►  parent  ──►  ToolHost           (grants checked in the parent)
 *   child  ◄──tool-result──
 *   child  ──done | failed──►
 *
 * One request is outstanding at a time. The parent validates every child message with the schemas
 * below: the child is not trusted, and a malformed message fails its run, never the parent.
 */

export interface WorkerModelResult {
  type: 'model-result';
  requestId: number;
  text: string;
  toolCalls: ToolCall[];
}

export interface WorkerToolResult {
  type: 'tool-result';
  requestId: number;
  outcome: { ok: true; output: unknown } | { ok: false; error: string };
}

export type ParentToWorker = WorkerStart | WorkerModelResult | WorkerToolResult;

const MAX_TEXT = 1_000_000;

/** An earlier turn of the run's conversation: a message and its answer, no tool steps. */
export const HistoryTurnSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string().max(MAX_TEXT),
});

/**
 * The start of a run. The parent checks its own message before sending it, so a history read from a
 * damaged agents.db fails the run in the parent instead of confusing the worker.
 */
export const WorkerStartSchema = z.object({
  type: z.literal('start'),
  runId: z.string().min(1),
  input: z.string().max(MAX_TEXT),
  /** Oldest first; the worker puts them before the input. Empty outside a conversation. */
  history: z.array(HistoryTurnSchema).max(10_000),
  maxSteps: z.number().int().min(1),
});
export type WorkerStart = z.infer<typeof WorkerStartSchema>;
const ToolCallSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  input: z.unknown(),
});

const ChatMessageSchema: z.ZodType<ChatMessage> = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string().max(MAX_TEXT) }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().max(MAX_TEXT),
    toolCalls: z.array(ToolCallSchema).max(100).optional(),
  }),
  z.object({
    role: z.literal('tool'),
    toolCallId: z.string().min(1).max(200),
    toolName: z.string().min(1).max(200),
    content: z.string().max(MAX_TEXT),
  }),
]);

const RequestId = z.number().int().nonnegative();

export const WorkerToParentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({
    type: z.literal('model'),
    requestId: RequestId,
    messages: z.array(ChatMessageSchema).min(1).max(1_000),
  }),
  z.object({ type: z.literal('tool'), requestId: RequestId, call: ToolCallSchema }),
  z.object({ type: z.literal('done'), output: z.string().max(MAX_TEXT) }),
  z.object({ type: z.literal('failed'), error: z.string().max(MAX_TEXT) }),
]);
export type WorkerToParent = z.infer<typeof WorkerToParentSchema>;
