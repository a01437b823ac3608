import { LinuxCollector } from '@agentbox/telemetry';

/** What the box needs from a collector (LinuxCollector in production). */
export interface MetricsCollector {
  collect(): Promise<Record<string, number>>;
  availableMetrics(): Promise<string[]>;
}

export const METRICS_COLLECTOR = Symbol('METRICS_COLLECTOR');

export function createMetricsCollector(): MetricsCollector {
  return new LinuxCollector();
}
