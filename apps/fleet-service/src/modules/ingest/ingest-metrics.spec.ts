import { Logger, type LoggerService } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricsService } from '../metrics/metrics.service.js';
import { IngestMetrics } from './ingest-metrics.js';

class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

describe('IngestMetrics', () => {
  afterEach(() => {
    vi.useRealTimers();
    Logger.overrideLogger(false);
  });

  it('counts every rejection but logs at most one line per reason per 10 s, with the suppressed count', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const logger = new CapturingLogger();
    Logger.overrideLogger(logger);
    const metrics = new MetricsService();
    const sut = new IngestMetrics(metrics);

    for (let i = 0; i < 50; i += 1)
      sut.reject('malformed_json', 'agentbox/v1/devices/box-a/up/telemetry', 'Unexpected end');
    sut.reject('invalid_schema', 'agentbox/v1/devices/box-a/up/state', 'seq: required');
    expect(logger.warnings).toHaveLength(2);

    vi.setSystemTime(1_000_000 + 9_999);
    sut.reject('malformed_json', 't', 'd');
    expect(logger.warnings).toHaveLength(2);
    vi.setSystemTime(1_000_000 + 10_000);
    sut.reject('malformed_json', 't', 'd');
    expect(logger.warnings).toHaveLength(3);
    expect(logger.warnings[2]).toContain('(50 more since the last line)');

    const data = await metrics.registry.getSingleMetric('agentbox_ingest_rejections_total')!.get();
    const value = (reason: string) => data.values.find((v) => v.labels.reason === reason)?.value;
    expect(value('malformed_json')).toBe(52);
    expect(value('invalid_schema')).toBe(1);
    expect(value('payload_too_large')).toBe(0);
  });
});
