import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '../agents/agents.module.js';
import { UsageRecordRow } from './usage-record.entity.js';
import { UsageController } from './usage.controller.js';
import { UsageService } from './usage.service.js';
import { UsageStore } from './usage.store.js';

/** Token usage records (written by ingest, each id once) and their aggregates. */
@Module({
  imports: [TypeOrmModule.forFeature([UsageRecordRow]), AgentsModule],
  controllers: [UsageController],
  providers: [UsageStore, UsageService],
  exports: [UsageStore],
})
export class UsageModule {}
