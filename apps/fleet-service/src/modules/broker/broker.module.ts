import { Module, type OnModuleInit } from '@nestjs/common';
import { BROKER } from '../../common/ports.js';
import { DevicesModule } from '../devices/devices.module.js';
import { DevicesService } from '../devices/devices.service.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { BrokerService } from './broker.service.js';
import { CommandSender } from './command-sender.js';

/** The MQTT broker side (embedded aedes or an external broker); provides BROKER (common/ports.ts). */
@Module({
  imports: [DevicesModule, SecretsModule],
  providers: [BrokerService, CommandSender, { provide: BROKER, useExisting: BrokerService }],
  exports: [BrokerService, CommandSender, BROKER],
})
export class BrokerModule implements OnModuleInit {
  constructor(
    private readonly devices: DevicesService,
    private readonly broker: BrokerService,
  ) {}

  /** A deleted box loses its broker credentials and session (the registry cannot depend on the broker). */
  onModuleInit(): void {
    this.devices.removed.add((deviceId) => this.broker.removeDevice(deviceId));
  }
}
