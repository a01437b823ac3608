import { Module } from '@nestjs/common';
import { DatabaseProbe } from '../../database/database-probe.js';
import { AppConfig } from '../../config/app-config.js';
import { BrokerModule } from '../broker/broker.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { UpdateReportsModule } from '../rollouts/update-reports.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { AgentRecordsWriter } from './agent-records-writer.js';
import { IngestMetrics } from './ingest-metrics.js';
import { IngestService } from './ingest.service.js';
import { SequenceGapMonitor } from './sequence-gap-monitor.js';
import { StorageConfirmations } from './storage-confirmations.js';
import {
  BATCH_WRITER_OPTIONS,
  DEFAULT_BATCH_WRITER_OPTIONS,
  type BatchWriterOptions,
} from './batch-buffer.js';
import { TelemetryBatchWriter } from './telemetry-batch-writer.js';

/** Telemetry transactions in flight at once on PostgreSQL (measured in docs/benchmarks.md). */
const POSTGRES_CONCURRENT_BATCHES = 3;

/** Decodes and applies everything boxes publish under `up/`. */
@Module({
  imports: [
    BrokerModule,
    DevicesModule,
    TelemetryModule,
    DesiredStateModule,
    RunsModule,
    UsageModule,
    UpdateReportsModule,
  ],
  providers: [
    DatabaseProbe,
    IngestMetrics,
    SequenceGapMonitor,
    StorageConfirmations,
    TelemetryBatchWriter,
    AgentRecordsWriter,
    IngestService,
    {
      provide: BATCH_WRITER_OPTIONS,
      inject: [AppConfig],
      useFactory: (config: AppConfig): BatchWriterOptions => ({
        ...DEFAULT_BATCH_WRITER_OPTIONS,
        // PostgreSQL takes several transactions at once; SQLite has one writer.
        concurrentBatches: config.database.type === 'postgres' ? POSTGRES_CONCURRENT_BATCHES : 1,
        ...config.ingest,
      }),
    },
  ],
  exports: [IngestService],
})
export class IngestModule {}
