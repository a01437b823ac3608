import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BROKER_PASSWORDS, DEVICE_REGISTRY } from '../../common/ports.js';
import { Device } from './device.entity.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';

/**
 * The device registry: REST for the console, DEVICE_REGISTRY (DeviceRegistryPort) for the broker and ingest,
 * BROKER_PASSWORDS (BrokerPasswordsPort) for the broker's dynamic-security reconciliation.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Device])],
  controllers: [DevicesController],
  providers: [
    DevicesService,
    { provide: DEVICE_REGISTRY, useExisting: DevicesService },
    { provide: BROKER_PASSWORDS, useExisting: DevicesService },
  ],
  exports: [DevicesService, DEVICE_REGISTRY, BROKER_PASSWORDS],
})
export class DevicesModule {}
