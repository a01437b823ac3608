import { z } from 'zod';
import { AgentIdSchema, RecordIdSchema } from '../agents.js';
import { DeviceIdSchema } from '../ids.js';
import { IsoTimestampSchema } from './common.js';

/** A message's text: what the `agent.run` command carries as input. */
export const CONVERSATION_TEXT_MAX = 10_000;

export const ConversationCreateRequestSchema = z.object({
  agentId: AgentIdSchema,
  deviceId: DeviceIdSchema,
  title: z.string().trim().min(1).max(200).optional(),
});
export type ConversationCreateRequest = z.input<typeof ConversationCreateRequestSchema>;

/** A conversation with one agent on one box. */
export const ConversationDtoSchema = z.object({
  id: z.string(),
  agentId: AgentIdSchema,
  deviceId: DeviceIdSchema,
  title: z.string(),
  createdAt: IsoTimestampSchema,
  lastMessageAt: IsoTimestampSchema.nullable().describe('null until the first message'),
});
export type ConversationDto = z.infer<typeof ConversationDtoSchema>;

export const ConversationListDtoSchema = z.object({ items: z.array(ConversationDtoSchema) });
export type ConversationListDto = z.infer<typeof ConversationListDtoSchema>;

export const ConversationListQuerySchema = z.object({
  agentId: AgentIdSchema.optional(),
  deviceId: DeviceIdSchema.optional(),
});
export type ConversationListQuery = z.infer<typeof ConversationListQuerySchema>;

export const ConversationMessageRequestSchema = z.object({
  text: z
    .string()
    .max(CONVERSATION_TEXT_MAX)
    .refine((text) => text.trim().length > 0, 'the message is empty'),
});
export type ConversationMessageRequest = z.input<typeof ConversationMessageRequestSchema>;

/** The box took the message: the run that answers it. */
export const ConversationMessageSentSchema = z.object({
  id: z.string().describe("the user message's id"),
  runId: RecordIdSchema,
});
export type ConversationMessageSent = z.infer<typeof ConversationMessageSentSchema>;

/** A deleted conversation: gone from the cloud, and from its box when the box said so. */
export const ConversationDeletedSchema = z.object({
  id: z.string(),
  forgottenOnBox: z
    .boolean()
    .describe('false when the box was offline or did not answer: it drops the turns with its run retention'),
});
export type ConversationDeleted = z.infer<typeof ConversationDeletedSchema>;

export const CONVERSATION_ROLES = ['user', 'assistant'] as const;

/**
 * A message of a conversation. An assistant message is the final output of the run that answered the
 * user message with the same `runId`; a run that did not succeed gives an assistant message with
 * `error` (why) and empty `text`.
 */
export const ConversationMessageDtoSchema = z.object({
  id: z.string(),
  role: z.enum(CONVERSATION_ROLES),
  text: z.string(),
  createdAt: IsoTimestampSchema,
  runId: RecordIdSchema.optional(),
  error: z.string().optional().describe('set when the run failed, timed out or was refused'),
});
export type ConversationMessageDto = z.infer<typeof ConversationMessageDtoSchema>;

export const ConversationMessageListDtoSchema = z.object({ items: z.array(ConversationMessageDtoSchema) });
export type ConversationMessageListDto = z.infer<typeof ConversationMessageListDtoSchema>;
