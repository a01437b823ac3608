import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { BrokerModule } from '../broker/broker.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { ConversationMessageRow, ConversationRow } from './conversation.entity.js';
import { ConversationsController } from './conversations.controller.js';
import { ConversationsService } from './conversations.service.js';
import { ConversationsStore } from './conversations.store.js';

/** Conversations with agents on boxes: messages go out as `agent.run`, answers come from run reports. */
@Module({
  imports: [
    TypeOrmModule.forFeature([ConversationRow, ConversationMessageRow]),
    AgentsModule,
    BrokerModule,
    DevicesModule,
    RunsModule,
  ],
  controllers: [ConversationsController],
  providers: [ConversationsStore, ConversationsService],
})
export class ConversationsModule {}
