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
import { BATCH_WRITER_OPTIONS, DEFAULT_BATCH_WRITER_OPTIONS } from './batch-buffer.js';
import { TelemetryBatchWriter } from './telemetry-batch-writer.js';

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
    TelemetryBatchWriter,
    AgentRecordsWriter,
    IngestService,
    {
      provide: BATCH_WRITER_OPTIONS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({ ...DEFAULT_BATCH_WRITER_OPTIONS, ...config.ingest }),
    },
  ],
  exports: [IngestService],
})
export class IngestModule {}
