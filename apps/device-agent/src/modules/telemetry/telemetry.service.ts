import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  MetricNameSchema,
  SCHEMA_VERSION,
  TelemetryMessageSchema,
  type TelemetryMessage,
} from '@agentbox/schemas';
import { RateLimitedLog } from '@agentbox/logging';
import { OutboxService } from '../outbox/outbox.service.js';
import { METRICS_COLLECTOR, type MetricsCollector } from '../runtime/metrics-collector.js';
import { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';
import { SequenceService } from '../sequence/sequence.service.js';

/** Keeps only values the wire contract accepts: valid metric names, finite numbers. */
export function cleanSample(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(values)) {
    if (Number.isFinite(value) && MetricNameSchema.safeParse(name).success) out[name] = value;
  }
  return out;
}

/**
 * Every interval: one sample from the collector, stamped with its seq, into the spool (one record each).
 * Sampling goes on while offline; the outbox forwards in order once the link is back, coalescing
 * consecutive records into messages of up to 1,000 samples (planMessages).
 */
@Injectable()
export class TelemetryService {
  private readonly logger = new Logger(TelemetryService.name);
  private readonly rateLimited = new RateLimitedLog(60_000);
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  samples = 0;

  constructor(
    @Inject(METRICS_COLLECTOR) private readonly collector: MetricsCollector,
    private readonly outbox: OutboxService,
    private readonly runtime: RuntimeSettingsService,
    private readonly seq: SequenceService,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.runtime.onIntervalChange(() => {
      this.logger.log({ intervalSec: this.runtime.telemetryIntervalSec }, 'telemetry interval changed');
      this.schedule();
    });
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.inFlight;
  }

  /** Collects one sample and queues it; exposed for tests and the `report-state` path. */
  async tick(): Promise<TelemetryMessage | undefined> {
    let values: Record<string, number>;
    try {
      values = cleanSample(await this.collector.collect());
    } catch (error) {
      if (this.rateLimited.take('collect') !== null)
        this.logger.warn({ err: error }, 'collecting metrics failed');
      return undefined;
    }
    if (Object.keys(values).length === 0) return undefined;
    const ts = Date.now();
    const message = TelemetryMessageSchema.parse({
      v: SCHEMA_VERSION,
      seq: this.seq.next(),
      ts,
      samples: [{ ts, values }],
    });
    await this.outbox.append('telemetry', message);
    this.samples += 1;
    return message;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => {
          if (this.rateLimited.take('tick') !== null)
            this.logger.error({ err: error }, 'telemetry tick failed');
        })
        .finally(() => {
          this.inFlight = undefined;
          this.schedule();
        });
    }, this.runtime.telemetryIntervalSec * 1_000);
  }
}
