import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration } from 'prom-client';

const DEFAULT_METRICS_PREFIX = 'agentbox_fleet_';

/** Node's private counters of what keeps the event loop alive, as prom-client reads them. */
const nodeProcess = process as NodeJS.Process & {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
};

/** [prom-client's name, ours, help, value] of the default gauges named like counters. */
const RENAMED_GAUGES: ReadonlyArray<readonly [string, string, string, () => number]> = [
  [
    'nodejs_active_handles_total',
    'nodejs_handles_active',
    'Active libuv handles, all types together',
    () => nodeProcess._getActiveHandles?.().length ?? 0,
  ],
  [
    'nodejs_active_requests_total',
    'nodejs_requests_active',
    'Active libuv requests, all types together',
    () => nodeProcess._getActiveRequests?.().length ?? 0,
  ],
  [
    'nodejs_active_resources_total',
    'nodejs_resources_active',
    'Active resources keeping the event loop alive, all types together',
    () => process.getActiveResourcesInfo().length,
  ],
];

/** One Prometheus registry per process; feature modules create their own metrics on it. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_METRICS_PREFIX });
    this.renameTotalGauges();
  }

  /**
   * prom-client's default metrics include three gauges named `…_total`, a suffix the exposition
   * format's conventions keep for counters (promtool check metrics refuses them). They are replaced by
   * gauges of the same value under names without it (docs/operations.md, "Processes and ports").
   */
  private renameTotalGauges(): void {
    for (const [from, to, help, read] of RENAMED_GAUGES) {
      this.registry.removeSingleMetric(`${DEFAULT_METRICS_PREFIX}${from}`);
      this.gauge({
        name: `${DEFAULT_METRICS_PREFIX}${to}`,
        help,
        collect() {
          this.set(read());
        },
      });
    }
  }

  counter<T extends string>(config: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
    return new Counter({ ...config, registers: [this.registry] });
  }

  gauge<T extends string>(config: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    return new Gauge({ ...config, registers: [this.registry] });
  }

  histogram<T extends string>(config: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    return new Histogram({ ...config, registers: [this.registry] });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
