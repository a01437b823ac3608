import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RunEventRow } from './run-event.entity.js';
import { RunRow } from './run.entity.js';
import { RunsController } from './runs.controller.js';
import { RunsService } from './runs.service.js';
import { RunsStore } from './runs.store.js';

/** Runs and their steps as boxes report them (written by ingest), and their REST read side. */
@Module({
  imports: [TypeOrmModule.forFeature([RunRow, RunEventRow])],
  controllers: [RunsController],
  providers: [RunsStore, RunsService],
  exports: [RunsStore],
})
export class RunsModule {}
