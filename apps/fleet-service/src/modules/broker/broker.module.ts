import { Module } from '@nestjs/common';
import { BROKER } from '../../common/ports.js';
import { DevicesModule } from '../devices/devices.module.js';
import { BrokerService } from './broker.service.js';
import { CommandSender } from './command-sender.js';

/** The MQTT broker side (embedded aedes or an external broker); provides BROKER (common/ports.ts). */
@Module({
  imports: [DevicesModule],
  providers: [BrokerService, CommandSender, { provide: BROKER, useExisting: BrokerService }],
  exports: [BrokerService, CommandSender, BROKER],
})
export class BrokerModule {}
