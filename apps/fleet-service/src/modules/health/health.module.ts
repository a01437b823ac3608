import { Module } from '@nestjs/common';
import { DatabaseProbe } from '../../database/database-probe.js';
import { BrokerModule } from '../broker/broker.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [BrokerModule],
  controllers: [HealthController],
  providers: [DatabaseProbe, HealthService],
})
export class HealthModule {}
