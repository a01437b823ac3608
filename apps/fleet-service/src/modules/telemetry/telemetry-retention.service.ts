import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DeviceEventsStore } from './device-events.store.js';
import { HOUR_MS, MINUTE_MS, TelemetryRollupsStore } from './telemetry-rollups.store.js';
import { TelemetryStore } from './telemetry.store.js';

const DAY_MS = 24 * HOUR_MS;

/**
 * Deletes telemetry and device events older than AGENTBOX_TELEMETRY_RETENTION_DAYS, and rollups older than
 * their own retention, hourly; on PostgreSQL
 * it first creates the telemetry partitions of the next days, then drops whole partitions of old days. The delete is idempotent, so
 * replicas running it concurrently do no harm (a PostgreSQL advisory lock can make it a singleton later).
 */
@Injectable()
export class TelemetryRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TelemetryRetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly store: TelemetryStore,
    private readonly events: DeviceEventsStore,
    private readonly rollups: TelemetryRollupsStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Today's and the next days' partitions must exist before samples arrive (PostgreSQL); a failure
    // leaves samples in the default partition until the next pass.
    await this.prepare(Date.now());
    // First pass a minute after boot, off the start-up path; then hourly.
    this.timer = setTimeout(() => this.tick(), 60_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One retention pass; returns the number of deleted samples (rows deleted one by one). */
  async runOnce(now = Date.now()): Promise<number> {
    await this.prepare(now);
    const cutoff = now - this.config.telemetryRetentionDays * DAY_MS;
    const deleted = await this.store.deleteOlderThan(cutoff);
    const events = await this.events.deleteOlderThan(cutoff);
    const { minuteDays, hourDays } = this.config.telemetryRollups;
    const rollups =
      (await this.rollups.deleteOlderThan(MINUTE_MS, now - minuteDays * DAY_MS)) +
      (await this.rollups.deleteOlderThan(HOUR_MS, now - hourDays * DAY_MS));
    if (rollups > 0) this.logger.log(`Retention deleted ${rollups} telemetry rollup buckets`);
    if (deleted.rows + deleted.partitions.length + events > 0) {
      const partitions =
        deleted.partitions.length > 0 ? `, dropped partitions ${deleted.partitions.join(', ')}` : '';
      this.logger.log(
        `Retention deleted ${deleted.rows} telemetry samples${partitions} and ${events} device events older than ${new Date(cutoff).toISOString()}`,
      );
    }
    return deleted.rows;
  }

  private async prepare(now: number): Promise<void> {
    try {
      const created = await this.store.preparePartitions(now);
      if (created.length > 0) this.logger.log(`Created telemetry partitions ${created.join(', ')}`);
    } catch (error) {
      this.logger.warn(`Creating telemetry partitions failed: ${(error as Error).message}`);
    }
  }

  private tick(): void {
    this.running = this.runOnce();
    this.running
      .catch((error: Error) => this.logger.error(`Telemetry retention failed: ${error.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.timer !== undefined) {
          this.timer = setTimeout(() => this.tick(), HOUR_MS);
          this.timer.unref();
        }
      });
  }
}
