import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DeviceEventsStore } from './device-events.store.js';
import { TelemetryStore } from './telemetry.store.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Deletes telemetry and device events older than AGENTBOX_TELEMETRY_RETENTION_DAYS, hourly. The delete is idempotent, so
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
  ) {}

  onApplicationBootstrap(): void {
    // First pass a minute after boot, off the start-up path; then hourly.
    this.timer = setTimeout(() => this.tick(), 60_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One retention pass; returns the number of deleted samples. */
  async runOnce(now = Date.now()): Promise<number> {
    const cutoff = now - this.config.telemetryRetentionDays * DAY_MS;
    const deleted = await this.store.deleteOlderThan(cutoff);
    const events = await this.events.deleteOlderThan(cutoff);
    if (deleted + events > 0) {
      this.logger.log(
        `Retention deleted ${deleted} telemetry samples and ${events} device events older than ${new Date(cutoff).toISOString()}`,
      );
    }
    return deleted;
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
