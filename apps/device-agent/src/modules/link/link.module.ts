import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { BirthService } from './birth.service.js';
import { LinkService } from './link.service.js';

@Module({ imports: [IdentityModule], providers: [BirthService, LinkService], exports: [LinkService] })
export class LinkModule {}
