import { Global, Module } from '@nestjs/common';
import { LiveEventsService } from './live-events.service.js';

@Global()
@Module({
  providers: [LiveEventsService],
  exports: [LiveEventsService],
})
export class LiveModule {}
