import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BrokerModule } from '../broker/broker.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { DeviceStateRow } from './device-state.entity.js';
import { DesiredStateController } from './desired-state.controller.js';
import { DesiredStateService } from './desired-state.service.js';

/** Versioned desired state per box, published retained on `down/desired`, and the state boxes report. */
@Module({
  imports: [TypeOrmModule.forFeature([DeviceStateRow]), BrokerModule, DevicesModule],
  controllers: [DesiredStateController],
  providers: [DesiredStateService],
  exports: [DesiredStateService],
})
export class DesiredStateModule {}
