import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { LinkModule } from '../link/link.module.js';
import { OutboxService } from './outbox.service.js';

@Module({ imports: [IdentityModule, LinkModule], providers: [OutboxService], exports: [OutboxService] })
export class OutboxModule {}
