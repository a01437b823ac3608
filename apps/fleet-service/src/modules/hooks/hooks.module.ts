import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { Device } from '../devices/device.entity.js';
import { DevicesModule } from '../devices/devices.module.js';
import { RunRow } from '../runs/run.entity.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { HookDeliveryRow, HookRow, HookSignatureRow } from './hook.entity.js';
import { HookAuthenticator } from './hook-authenticator.js';
import { HookDeliveriesService } from './hook-deliveries.service.js';
import { HookInvokeController, HooksController } from './hooks.controller.js';
import { HooksService } from './hooks.service.js';

/** Webhooks from anywhere, relayed to an agent on a box (queued while the box is offline). */
@Module({
  imports: [
    TypeOrmModule.forFeature([HookRow, HookDeliveryRow, HookSignatureRow, RunRow, Device]),
    AgentsModule,
    DevicesModule,
    SecretsModule,
    AuditModule,
  ],
  controllers: [HooksController, HookInvokeController],
  providers: [HooksService, HookDeliveriesService, HookAuthenticator],
})
export class HooksModule {}
