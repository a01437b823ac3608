import { Injectable, type OnModuleInit } from '@nestjs/common';
import {
  COMMAND_NAMES,
  type ConversationCreateRequest,
  type ConversationDeleted,
  type ConversationDto,
  type ConversationListDto,
  type ConversationListQuery,
  type ConversationMessageListDto,
  type ConversationMessageSent,
} from '@agentbox/schemas';
import { AgentTasksService } from '../agents/agent-tasks.service.js';
import { AgentsService } from '../agents/agents.service.js';
import type { AuthUser } from '../auth/auth.decorators.js';
import { CommandSender } from '../broker/command-sender.js';
import { DevicesService } from '../devices/devices.service.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { toRunRecord } from '../runs/runs.dto.js';
import { RunsStore } from '../runs/runs.store.js';
import { conversationMarkdown } from './conversation-transcript.js';
import type { ConversationRow } from './conversation.entity.js';
import { toConversationDto, toMessageDto } from './conversations.dto.js';
import { ConversationException } from './conversations.exception.js';
import { ConversationsStore, type AddedMessage } from './conversations.store.js';

/** How long a delete waits for the box to say it forgot the conversation. */
const FORGET_TIMEOUT_MS = 5_000;

/**
 * Conversations with an agent on a box (docs/architecture.md, "Conversations"): a message is an
 * `agent.run` command with the conversation's id, and the run's final report, however it arrives,
 * becomes the answer.
 */
@Injectable()
export class ConversationsService implements OnModuleInit {
  constructor(
    private readonly store: ConversationsStore,
    private readonly agents: AgentsService,
    private readonly devices: DevicesService,
    private readonly tasks: AgentTasksService,
    private readonly runs: RunsStore,
    private readonly live: LiveEventsService,
    private readonly commands: CommandSender,
  ) {}

  onModuleInit(): void {
    this.runs.onRunsChanged(async (manager, runs) => {
      const added = await this.store.addAnswers(manager, runs);
      return added.length > 0 ? () => this.publish(added) : undefined;
    });
  }

  async create(body: ConversationCreateRequest, user: AuthUser): Promise<ConversationDto> {
    await this.agents.get(body.agentId);
    await this.devices.get(body.deviceId);
    const row = await this.store.create({
      agentId: body.agentId,
      deviceId: body.deviceId,
      title: body.title?.trim() ?? '',
      createdBy: user.username,
    });
    return toConversationDto(row);
  }

  async list(query: ConversationListQuery): Promise<ConversationListDto> {
    return { items: (await this.store.list(query)).map(toConversationDto) };
  }

  async messages(id: string): Promise<ConversationMessageListDto> {
    await this.get(id);
    let rows = await this.store.messagesOf(id);
    const answered = new Set(rows.filter((m) => m.role === 'assistant').map((m) => m.runId));
    const waiting = rows.filter((m) => m.role === 'user' && !answered.has(m.runId)).map((m) => m.runId);
    if (waiting.length > 0 && (await this.answerEndedRuns(waiting)) > 0)
      rows = await this.store.messagesOf(id);
    return { items: rows.map(toMessageDto) };
  }

  /** Sends the message to the box (409 when it is offline or refuses, as a task) and keeps it. */
  async send(id: string, text: string): Promise<ConversationMessageSent> {
    const conversation = await this.get(id);
    const { runId } = await this.tasks.send(conversation.agentId, conversation.deviceId, text, id);
    const added = await this.store.addUserMessage(conversation, runId, text);
    this.publish([added]);
    // The run may have ended, and its report been stored, before the message was: answer it now.
    await this.answerEndedRuns([runId]);
    return { id: added.message.id, runId };
  }

  /**
   * Answers the messages whose runs have ended from the stored runs. The ingest hook answers a run as
   * its report is stored; this covers a report stored while its message was still being stored, which
   * on PostgreSQL neither transaction sees (read when a message is stored and when messages are read).
   */
  private async answerEndedRuns(runIds: readonly string[]): Promise<number> {
    const runs = await this.runs.findByIds(runIds);
    if (runs.length === 0) return 0;
    const answers = await this.store.transaction((manager) =>
      this.store.addAnswers(manager, runs.map(toRunRecord)),
    );
    this.publish(answers);
    return answers.length;
  }

  /**
   * Deletes the conversation in the cloud, then asks its box to forget the turns it keeps for the model
   * (`conversation.forget`). A box that is offline or does not answer keeps them until its run retention
   * drops the idle conversation (docs/protocol.md section 11); the answer says which happened.
   */
  async remove(id: string): Promise<ConversationDeleted> {
    const conversation = await this.get(id);
    await this.store.remove(id);
    return { id, forgottenOnBox: await this.forgetOnBox(conversation) };
  }

  private async forgetOnBox(conversation: ConversationRow): Promise<boolean> {
    const device = await this.devices.get(conversation.deviceId).catch(() => undefined);
    if (!device?.online) return false;
    try {
      const result = await this.commands.send(
        conversation.deviceId,
        COMMAND_NAMES.conversationForget,
        { conversationId: conversation.id },
        FORGET_TIMEOUT_MS,
      );
      return result.status === 'succeeded';
    } catch {
      return false;
    }
  }

  async exportMarkdown(id: string): Promise<{ filename: string; body: string }> {
    const conversation = await this.get(id);
    const messages = await this.store.messagesOf(id);
    return {
      filename: `conversation-${conversation.id}.md`,
      body: conversationMarkdown(conversation, messages, new Date()),
    };
  }

  private async get(id: string): Promise<ConversationRow> {
    const row = await this.store.findOne(id);
    if (!row) throw new ConversationException('CONVERSATION_NOT_FOUND', `Conversation ${id} not found`);
    return row;
  }

  private publish(added: readonly AddedMessage[]): void {
    for (const { conversation, message } of added) {
      this.live.publish({
        type: 'conversation.message',
        conversationId: conversation.id,
        deviceId: conversation.deviceId,
        message: toMessageDto(message),
      });
    }
  }
}
