import { Module } from '@nestjs/common';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { LinkModule } from '../link/link.module.js';
import { CommandsService } from './commands.service.js';

@Module({
  imports: [IdentityModule, LinkModule, DesiredStateModule],
  providers: [CommandsService],
  exports: [CommandsService],
})
export class CommandsModule {}
