import { Module } from '@nestjs/common';
import { SecretsModule } from '../agents/secrets/secrets.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { BirthService } from './birth.service.js';
import { LinkService } from './link.service.js';

@Module({
  imports: [IdentityModule, SecretsModule],
  providers: [BirthService, LinkService],
  exports: [LinkService],
})
export class LinkModule {}
