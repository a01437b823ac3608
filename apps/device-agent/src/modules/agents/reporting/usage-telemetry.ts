import { SCHEMA_VERSION, type TelemetryMessage, type UsageRecord } from '@agentbox/schemas';
import type { AgentsLogger, AgentsOutbox, RunReporter } from '../agents.contracts.js';
import type { UsageStore } from '../store/usage-store.js';
import type { AgentUsageMetrics } from './agent-usage-metrics.js';

export interface UsageTelemetryDeps {
  /** Where usage records are kept on the box; `isOpen` false once agents.db is closed. */
  store: Pick<UsageStore, 'record'> & { isOpen(): boolean };
  reporter: Pick<RunReporter, 'usage'>;
  metrics: AgentUsageMetrics;
  outbox: Pick<AgentsOutbox, 'append'>;
  nextSeq: () => number;
  logger: AgentsLogger;
}

/**
 * Where the model gateway's usage records go: stored once (what `tokensToday` and the budget views
 * read), reported through the spool (`up/usage`), and summed into tokens per agent and model per
 * minute, sent as telemetry one sample per finished minute.
 */
export class UsageTelemetry {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: UsageTelemetryDeps) {}

  /** One usage record from the gateway (never throws). */
  record(usage: UsageRecord): void {
    const { store, reporter, metrics, logger } = this.deps;
    try {
      // The local copy first: it is what `tokensToday` and the budget views read.
      if (store.isOpen() && store.record(usage) === false) return; // seen before: never counted twice
    } catch (error) {
      logger.warn('a usage record could not be stored', { err: (error as Error).message });
    }
    reporter.usage(usage);
    metrics.add(usage);
  }

  /** Sends each finished minute's samples from now on. */
  start(): void {
    this.timer = setTimeout(() => {
      void this.flush(false);
      this.start();
    }, this.deps.metrics.msToNextMinute() + 50);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Tokens per agent per minute go out as telemetry; `all` includes the minute in progress (at stop). */
  async flush(all: boolean): Promise<void> {
    const samples = this.deps.metrics.takeCompleted(all ? Date.now() + 60_000 : Date.now());
    if (samples.length === 0) return;
    const message: TelemetryMessage = {
      v: SCHEMA_VERSION,
      seq: this.deps.nextSeq(),
      ts: Date.now(),
      samples,
    };
    await this.deps.outbox.append('telemetry', message).catch((error: unknown) => {
      this.deps.logger.warn('agent token metrics could not be spooled', { err: (error as Error).message });
    });
  }
}
