import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { ReleasesModule } from '../releases/releases.module.js';
import { RolloutOffers } from './rollout-offers.service.js';
import { RolloutStepper } from './rollout-stepper.service.js';
import { RolloutTicker } from './rollout-ticker.js';
import { DeviceUpdateRow, RolloutDeviceRow, RolloutRow } from './rollout.entity.js';
import { RolloutStore } from './rollout.store.js';
import { DeviceUpdatesController, RolloutsController } from './rollouts.controller.js';
import { RolloutsService } from './rollouts.service.js';
import { UpdateReportsModule } from './update-reports.module.js';

/**
 * Rollouts of releases to boxes: the engine (rollout-engine.ts) stepped by a single-leader ticker, the
 * store, offers through the desired state (`spec.update`), and (UpdateReportsModule) up/update reports
 * and every box's update history.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([RolloutRow, RolloutDeviceRow, DeviceUpdateRow]),
    ReleasesModule,
    AuditModule,
    DevicesModule,
    DesiredStateModule,
    UpdateReportsModule,
  ],
  controllers: [RolloutsController, DeviceUpdatesController],
  providers: [RolloutStore, RolloutOffers, RolloutStepper, RolloutsService, RolloutTicker],
  exports: [RolloutsService, RolloutTicker],
})
export class RolloutsModule {}
