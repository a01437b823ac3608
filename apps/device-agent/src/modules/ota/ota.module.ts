import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { LinkModule } from '../link/link.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { PassingCheckpoints, UpdateFlowCheckpoints } from './flow-checkpoints.js';
import { LocalClock, SystemLocalClock } from './local-clock.js';
import { OtaService } from './ota.service.js';

@Module({
  imports: [OutboxModule, DesiredStateModule, AgentsModule, LinkModule],
  providers: [
    OtaService,
    { provide: LocalClock, useClass: SystemLocalClock },
    { provide: UpdateFlowCheckpoints, useClass: PassingCheckpoints },
  ],
  exports: [OtaService],
})
export class OtaModule {}
