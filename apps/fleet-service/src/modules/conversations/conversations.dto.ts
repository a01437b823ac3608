import type { ConversationDto, ConversationMessageDto } from '@agentbox/schemas';
import type { ConversationMessageRow, ConversationRow } from './conversation.entity.js';

export function toConversationDto(row: ConversationRow): ConversationDto {
  return {
    id: row.id,
    agentId: row.agentId,
    deviceId: row.deviceId,
    title: row.title,
    createdAt: row.createdAt.toISOString(),
    lastMessageAt: row.lastMessageAt ? row.lastMessageAt.toISOString() : null,
  };
}

export function toMessageDto(row: ConversationMessageRow): ConversationMessageDto {
  return {
    id: row.id,
    role: row.role,
    text: row.text,
    createdAt: new Date(row.createdAt).toISOString(),
    runId: row.runId,
    ...(row.error !== null ? { error: row.error } : {}),
  };
}
