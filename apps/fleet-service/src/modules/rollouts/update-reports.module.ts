import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UPDATE_REPORTS } from '../../common/ports.js';
import { DeviceUpdateRow } from './rollout.entity.js';
import { UpdateReportsService } from './update-reports.service.js';

/**
 * The `up/update` side of rollouts on its own, so ingest can store reports without the rest of the
 * rollouts module (releases, HTTP): it needs only the reports table and the live stream.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DeviceUpdateRow])],
  providers: [UpdateReportsService, { provide: UPDATE_REPORTS, useExisting: UpdateReportsService }],
  exports: [UpdateReportsService, UPDATE_REPORTS],
})
export class UpdateReportsModule {}
