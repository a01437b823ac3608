import { Module } from '@nestjs/common';
import { LinkModule } from '../link/link.module.js';
import { SystemdService } from './systemd.service.js';

@Module({ imports: [LinkModule], providers: [SystemdService], exports: [SystemdService] })
export class SystemdModule {}
