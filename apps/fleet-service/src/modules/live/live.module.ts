import { Global, Module } from '@nestjs/common';
import { LiveEventsService } from './live-events.service.js';
import { LiveStreamService } from './live-stream.service.js';
import { LiveController } from './live.controller.js';
import { PostgresLiveBus } from './postgres-live-bus.service.js';

@Global()
@Module({
  controllers: [LiveController],
  providers: [LiveEventsService, LiveStreamService, PostgresLiveBus],
  exports: [LiveEventsService],
})
export class LiveModule {}
