import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { LinkService } from '../link/link.service.js';
import { BoxConfig } from '../../config/box-config.js';
import { SystemdNotifier } from './systemd-notifier.js';

/**
 * READY=1 once the box is first connected (Type=notify), and WATCHDOG=1 every WATCHDOG_USEC/2
 * while the event loop turns (the timer fires at all, and on time) and the link loop makes progress.
 */
@Injectable()
export class SystemdService implements OnModuleDestroy {
  private readonly logger = new Logger(SystemdService.name);
  private readonly notifier: SystemdNotifier;
  private watchdog: NodeJS.Timeout | undefined;
  private readySent = false;
  private lastTickAt = 0;
  private lastWarningAt = 0;

  constructor(
    private readonly config: BoxConfig,
    private readonly link: LinkService,
  ) {
    this.notifier = new SystemdNotifier(config.notifySocket);
  }

  start(): void {
    if (!this.notifier.enabled) return;
    this.link.onUp(() => {
      const status = `connected (${this.link.connections} connection${this.link.connections === 1 ? '' : 's'} since start)`;
      if (!this.readySent) {
        this.readySent = true;
        void this.send({ READY: '1', STATUS: status });
      } else {
        void this.send({ STATUS: status });
      }
    });
    this.link.onDown(() => void this.send({ STATUS: 'reconnecting to the broker' }));
    void this.send({ STATUS: 'starting (enrolment, then connecting to the broker)' });
    const interval = this.config.watchdogIntervalMs;
    if (interval === undefined) return;
    this.lastTickAt = Date.now();
    this.watchdog = setInterval(() => this.tick(interval), interval);
    this.logger.log({ intervalMs: interval }, 'systemd watchdog enabled');
  }

  /** Tells systemd the box is stopping (shown by `systemctl status`). */
  async stopping(): Promise<void> {
    clearInterval(this.watchdog);
    await this.send({ STOPPING: '1', STATUS: 'stopping' });
  }

  onModuleDestroy(): void {
    clearInterval(this.watchdog);
  }

  private tick(interval: number): void {
    const now = Date.now();
    // A tick that comes much later than scheduled means the event loop was blocked.
    const lag = now - this.lastTickAt - interval;
    this.lastTickAt = now;
    const loopHealthy = lag < interval / 2;
    const linkHealthy = this.link.isHealthy(now);
    if (loopHealthy && linkHealthy) {
      void this.send({ WATCHDOG: '1' });
      return;
    }
    if (now - this.lastWarningAt > 10_000) {
      this.lastWarningAt = now;
      this.logger.warn({ lagMs: lag, linkHealthy }, 'unhealthy: not feeding the systemd watchdog');
    }
  }

  private async send(fields: Record<string, string>): Promise<void> {
    if (!this.notifier.enabled) return;
    const ok = await this.notifier.notify(fields);
    if (!ok && now() - this.lastWarningAt > 60_000) {
      this.lastWarningAt = now();
      this.logger.warn({ fields: Object.keys(fields) }, 'systemd-notify failed');
    }
  }
}

function now(): number {
  return Date.now();
}
