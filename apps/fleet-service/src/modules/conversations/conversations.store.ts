import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { FINAL_RUN_STATUSES, type ConversationListQuery, type RunRecord } from '@agentbox/schemas';
import { ConversationMessageRow, ConversationRow } from './conversation.entity.js';

const FINAL = new Set<string>(FINAL_RUN_STATUSES);
const LIST_MAX = 200;
const TITLE_FROM_TEXT = 80;

/** A message added to a conversation, with its conversation: what the live stream tells. */
export interface AddedMessage {
  conversation: ConversationRow;
  message: ConversationMessageRow;
}

/** Conversations and their messages on SQLite or PostgreSQL. */
@Injectable()
export class ConversationsStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(ConversationRow) private readonly conversations: Repository<ConversationRow>,
    @InjectRepository(ConversationMessageRow) private readonly messages: Repository<ConversationMessageRow>,
  ) {}

  async create(values: Pick<ConversationRow, 'agentId' | 'deviceId' | 'title' | 'createdBy'>) {
    const row = this.conversations.create({
      ...values,
      id: randomUUID(),
      createdAt: new Date(),
      lastMessageAt: null,
    });
    await this.conversations.insert(row);
    return row;
  }

  /** Deletes the conversation and its messages in one transaction. */
  async remove(id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(ConversationMessageRow, { conversationId: id });
      await manager.delete(ConversationRow, { id });
    });
  }

  findOne(id: string): Promise<ConversationRow | null> {
    return this.conversations.findOneBy({ id });
  }

  /** The most recently active first (a conversation without messages by when it was started). */
  list(query: ConversationListQuery): Promise<ConversationRow[]> {
    // Ordered and cut in SQL: cutting the newest by creation first would drop an old conversation
    // talked in just now.
    const select = this.conversations
      .createQueryBuilder('c')
      .addSelect('COALESCE(c.last_message_at, c.created_at)', 'activity')
      .orderBy('activity', 'DESC')
      .addOrderBy('c.created_at', 'DESC')
      .limit(LIST_MAX);
    if (query.agentId) select.andWhere('c.agent_id = :agentId', { agentId: query.agentId });
    if (query.deviceId) select.andWhere('c.device_id = :deviceId', { deviceId: query.deviceId });
    return select.getMany();
  }

  /** Oldest first; a question before its answer when both carry the same millisecond. */
  messagesOf(conversationId: string): Promise<ConversationMessageRow[]> {
    return this.messages.find({ where: { conversationId }, order: { createdAt: 'ASC', role: 'DESC' } });
  }

  /** A user's message the box accepted as run `runId`; the first one names an untitled conversation. */
  async addUserMessage(conversation: ConversationRow, runId: string, text: string): Promise<AddedMessage> {
    return this.dataSource.transaction(async (manager) => {
      const message = manager.create(ConversationMessageRow, {
        id: randomUUID(),
        conversationId: conversation.id,
        role: 'user',
        text,
        runId,
        error: null,
        createdAt: Date.now(),
      });
      await manager.insert(ConversationMessageRow, message);
      const title = conversation.title || text.trim().replace(/\s+/g, ' ').slice(0, TITLE_FROM_TEXT);
      const lastMessageAt = new Date(message.createdAt);
      await manager.update(ConversationRow, { id: conversation.id }, { title, lastMessageAt });
      return { conversation: { ...conversation, title, lastMessageAt }, message };
    });
  }

  /**
   * The answers of runs that ended, for the runs that answer a user's message: the run's output, or
   * why it did not succeed. Added once per run however often the run is reported.
   */
  async addAnswers(manager: EntityManager, runs: readonly RunRecord[]): Promise<AddedMessage[]> {
    const ended = runs.filter((run) => FINAL.has(run.status));
    if (ended.length === 0) return [];
    const runIds = ended.map((run) => run.id);
    const asked = await manager.find(ConversationMessageRow, { where: { runId: In(runIds) } });
    const questions = new Map(asked.filter((m) => m.role === 'user').map((m) => [m.runId, m]));
    const answered = new Set(asked.filter((m) => m.role === 'assistant').map((m) => m.runId));
    const fresh = ended.filter((run) => questions.has(run.id) && !answered.has(run.id));
    if (fresh.length === 0) return [];

    const now = Date.now();
    const rows = fresh.map((run) =>
      manager.create(ConversationMessageRow, {
        id: randomUUID(),
        conversationId: questions.get(run.id)!.conversationId,
        role: 'assistant',
        text: run.status === 'succeeded' ? (run.output ?? '') : '',
        runId: run.id,
        error: run.status === 'succeeded' ? null : (run.error ?? `the run ended ${run.status}`),
        // Never before its question, whatever the clocks say.
        createdAt: Math.max(now, questions.get(run.id)!.createdAt + 1),
      }),
    );
    await manager
      .createQueryBuilder()
      .insert()
      .into(ConversationMessageRow)
      .values(rows)
      .orIgnore()
      .execute();
    const conversationIds = [...new Set(rows.map((row) => row.conversationId))];
    await manager.update(ConversationRow, { id: In(conversationIds) }, { lastMessageAt: new Date(now) });
    const conversations = await manager.find(ConversationRow, { where: { id: In(conversationIds) } });
    const byId = new Map(conversations.map((row) => [row.id, row]));
    return rows.flatMap((message) => {
      const conversation = byId.get(message.conversationId);
      return conversation ? [{ conversation, message }] : [];
    });
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
