import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module.js';
import { TelemetryService } from './telemetry.service.js';

@Module({ imports: [OutboxModule], providers: [TelemetryService], exports: [TelemetryService] })
export class TelemetryModule {}
