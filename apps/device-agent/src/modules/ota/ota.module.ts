import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { LinkModule } from '../link/link.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { OtaService } from './ota.service.js';

@Module({
  imports: [OutboxModule, DesiredStateModule, AgentsModule, LinkModule],
  providers: [OtaService],
  exports: [OtaService],
})
export class OtaModule {}
