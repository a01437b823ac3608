import { Module } from '@nestjs/common';
import { BrokerModule } from '../broker/broker.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [BrokerModule],
  controllers: [HealthController],
  providers: [HealthService],
})
export class HealthModule {}
