import { Global, Module } from '@nestjs/common';
import { SequenceService } from '../sequence/sequence.service.js';
import { createMetricsCollector, METRICS_COLLECTOR } from './metrics-collector.js';
import { RuntimeSettingsService } from './runtime-settings.service.js';

/** Leaf services every feature uses: runtime settings, the sequence, the metrics collector. */
@Global()
@Module({
  providers: [
    RuntimeSettingsService,
    SequenceService,
    { provide: METRICS_COLLECTOR, useFactory: createMetricsCollector },
  ],
  exports: [RuntimeSettingsService, SequenceService, METRICS_COLLECTOR],
})
export class RuntimeModule {}
