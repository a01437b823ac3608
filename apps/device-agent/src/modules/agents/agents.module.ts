import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { AgentsService } from './agents.service.js';

/** The agents as the box sees them; their runtime (runtime/agents-runtime.module.ts) is loaded at start. */
@Module({
  imports: [DesiredStateModule, CommandsModule],
  providers: [AgentsService],
  exports: [AgentsService],
})
export class AgentsModule {}
