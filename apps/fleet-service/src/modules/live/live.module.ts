import { Global, Module } from '@nestjs/common';
import { LiveEventsService } from './live-events.service.js';
import { LiveStreamService } from './live-stream.service.js';
import { LiveController } from './live.controller.js';
import { PostgresLiveBus } from './postgres-live-bus.service.js';
import { AuthModule } from '../auth/auth.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';

@Global()
@Module({
  // The live bus reads back the telemetry other replicas stored; streams re-check their caller.
  imports: [TelemetryModule, AuthModule],
  controllers: [LiveController],
  providers: [LiveEventsService, LiveStreamService, PostgresLiveBus],
  exports: [LiveEventsService],
})
export class LiveModule {}
