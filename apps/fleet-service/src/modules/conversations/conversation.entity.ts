import { Entity, Index } from 'typeorm';
import type { ConversationMessageDto } from '@agentbox/schemas';
import { Int64, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';

/** A conversation with one agent on one box; its history for the model is kept on the box. */
@Entity('conversations')
@Index('idx_conversations_agent_device', ['agentId', 'deviceId'])
@Index('idx_conversations_device', ['deviceId'])
export class ConversationRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(63) agentId!: string;
  @Varchar(64) deviceId!: string;
  @Varchar(200) title!: string;
  @Varchar(200, { nullable: true }) createdBy!: string | null;
  @Timestamp() createdAt!: Date;
  @Timestamp({ nullable: true }) lastMessageAt!: Date | null;
}

/** A message as the console shows it: a user's, or the outcome of the run that answered it. */
@Entity('conversation_messages')
@Index('idx_conversation_messages_conversation', ['conversationId', 'createdAt'])
@Index('uq_conversation_messages_run_role', ['runId', 'role'], { unique: true })
export class ConversationMessageRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(36) conversationId!: string;
  @Varchar(10) role!: ConversationMessageDto['role'];
  @Text() text!: string;
  @Varchar(64) runId!: string;
  @Text({ nullable: true }) error!: string | null;
  /** Epoch ms, so messages of one second keep their order. */
  @Int64() createdAt!: number;
}
