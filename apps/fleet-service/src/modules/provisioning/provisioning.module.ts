import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { BrokerModule } from '../broker/broker.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { ClaimToken } from './claim-token.entity.js';
import { ProvisioningController } from './provisioning.controller.js';
import { ProvisioningService } from './provisioning.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([ClaimToken]), DevicesModule, BrokerModule, AuditModule],
  controllers: [ProvisioningController],
  providers: [ProvisioningService],
})
export class ProvisioningModule {}
