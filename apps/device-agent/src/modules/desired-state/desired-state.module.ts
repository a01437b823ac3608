import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { LinkModule } from '../link/link.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { DesiredStateService } from './desired-state.service.js';

@Module({
  imports: [IdentityModule, LinkModule, OutboxModule],
  providers: [DesiredStateService],
  exports: [DesiredStateService],
})
export class DesiredStateModule {}
