import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { HOUR_MS, TelemetryRollupsStore, type RollupPass } from './telemetry-rollups.store.js';

const DAY_MS = 24 * HOUR_MS;

/**
 * Rolls telemetry up into 1-minute and 1-hour buckets every AGENTBOX_TELEMETRY_ROLLUP_TICK_MS (one
 * replica at a time on PostgreSQL; docs/operations.md, "Telemetry rollups"). A failed pass leaves the
 * marks where they were, and the next pass does its work.
 */
@Injectable()
export class TelemetryRollupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TelemetryRollupService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly store: TelemetryRollupsStore,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass now, after the one under way; resolves with what it did. */
  runOnce(now = Date.now()): Promise<RollupPass> {
    // Chained rather than awaited: two callers waiting on the same pass would then run side by side.
    const pass = (this.running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.store.rollUp(now, now - this.config.telemetryRetentionDays * DAY_MS));
    this.running = pass;
    return pass;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .then((pass) => {
          if (pass.minuteBuckets + pass.hourBuckets + pass.lateBoxes > 0) {
            this.logger.debug(
              `Rolled up ${pass.minuteBuckets} minute and ${pass.hourBuckets} hour buckets, ${pass.lateBoxes} boxes with late samples`,
            );
          }
        })
        .catch((error: Error) => this.logger.error(`Telemetry rollup failed: ${error.message}`))
        .finally(() => this.schedule());
    }, this.config.telemetryRollups.tickMs);
    this.timer.unref();
  }
}
