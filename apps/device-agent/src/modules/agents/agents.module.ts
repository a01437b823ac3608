import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { AgentsService } from './agents.service.js';
import { SecretsModule } from './secrets/secrets.module.js';

@Module({
  imports: [OutboxModule, DesiredStateModule, CommandsModule, SecretsModule],
  providers: [AgentsService],
  exports: [AgentsService],
})
export class AgentsModule {}
