import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEventRow } from './device-event.entity.js';
import { DeviceEventsStore } from './device-events.store.js';
import { DeviceSpoolMarkRow } from './device-spool-mark.entity.js';
import { SpoolMarksStore } from './spool-marks.store.js';
import { TelemetrySampleRow } from './telemetry-sample.entity.js';
import { TelemetryRetentionService } from './telemetry-retention.service.js';
import { TelemetryRollupService } from './telemetry-rollup.service.js';
import { TelemetryRollupsStore } from './telemetry-rollups.store.js';
import { TelemetryController } from './telemetry.controller.js';
import { TelemetryService } from './telemetry.service.js';
import { TelemetryStore } from './telemetry.store.js';

/** Telemetry and device-event storage (SQLite or PostgreSQL), its REST read side, rollups and retention. */
@Module({
  imports: [TypeOrmModule.forFeature([TelemetrySampleRow, DeviceEventRow, DeviceSpoolMarkRow])],
  controllers: [TelemetryController],
  providers: [
    TelemetryStore,
    DeviceEventsStore,
    SpoolMarksStore,
    TelemetryService,
    TelemetryRetentionService,
    TelemetryRollupsStore,
    TelemetryRollupService,
  ],
  exports: [
    TelemetryStore,
    DeviceEventsStore,
    SpoolMarksStore,
    TelemetryRetentionService,
    TelemetryRollupService,
  ],
})
export class TelemetryModule {}
