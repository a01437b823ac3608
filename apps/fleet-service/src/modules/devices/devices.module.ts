import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DEVICE_REGISTRY } from '../../common/ports.js';
import { Device } from './device.entity.js';
import { DevicesController } from './devices.controller.js';
import { DevicesService } from './devices.service.js';

/** The device registry: REST for the console, DEVICE_REGISTRY (DeviceRegistryPort) for the broker and ingest. */
@Module({
  imports: [TypeOrmModule.forFeature([Device])],
  controllers: [DevicesController],
  providers: [DevicesService, { provide: DEVICE_REGISTRY, useExisting: DevicesService }],
  exports: [DevicesService, DEVICE_REGISTRY],
})
export class DevicesModule {}
