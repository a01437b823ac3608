import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UPDATE_REPORTS } from '../../common/ports.js';
import { z } from 'zod';
import { AuditModule } from '../audit/audit.module.js';
import { DesiredStateModule } from '../desired-state/desired-state.module.js';
import { DevicesModule } from '../devices/devices.module.js';
import { ReleasesModule } from '../releases/releases.module.js';
import { RolloutTicker, ROLLOUT_TICKER_OPTIONS, type RolloutTickerOptions } from './rollout-ticker.js';
import { DeviceUpdateRow, RolloutDeviceRow, RolloutRow } from './rollout.entity.js';
import { DeviceUpdatesController, RolloutsController } from './rollouts.controller.js';
import { RolloutsService } from './rollouts.service.js';

/** AGENTBOX_ROLLOUT_TICK_MS: how often the leading replica steps the rollout engine (default 5 s). */
export function rolloutTickerOptions(env: NodeJS.ProcessEnv = process.env): RolloutTickerOptions {
  const parsed = z.coerce
    .number()
    .int()
    .min(20)
    .max(600_000)
    .default(5_000)
    .safeParse(env.AGENTBOX_ROLLOUT_TICK_MS === '' ? undefined : env.AGENTBOX_ROLLOUT_TICK_MS);
  if (!parsed.success) throw new Error('AGENTBOX_ROLLOUT_TICK_MS must be an integer between 20 and 600000');
  return { intervalMs: parsed.data };
}

/**
 * Rollouts of releases to boxes: the engine (rollout-engine.ts), its single-leader ticker, offers through
 * the desired state (`spec.update`), up/update reports and every box's update history.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([RolloutRow, RolloutDeviceRow, DeviceUpdateRow]),
    ReleasesModule,
    AuditModule,
    DevicesModule,
    DesiredStateModule,
  ],
  controllers: [RolloutsController, DeviceUpdatesController],
  providers: [
    RolloutsService,
    RolloutTicker,
    { provide: UPDATE_REPORTS, useExisting: RolloutsService },
    { provide: ROLLOUT_TICKER_OPTIONS, useFactory: () => rolloutTickerOptions() },
  ],
  exports: [RolloutsService, RolloutTicker, UPDATE_REPORTS],
})
export class RolloutsModule {}
