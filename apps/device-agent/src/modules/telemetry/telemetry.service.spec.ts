import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { TelemetryMessageSchema } from '@agentbox/schemas';
import { enrolledBox } from '../../../test/support/enrolled-box.js';
import type { OutboxService } from '../outbox/outbox.service.js';
import type { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';
import { TelemetryService, cleanSample } from './telemetry.service.js';

describe('cleanSample', () => {
  it('keeps valid metric names with finite values only', () => {
    expect(
      cleanSample({ 'cpu.usage_pct': 3, 'Bad Name': 1, 'mem.used_bytes': Number.NaN, 'load.1m': Infinity }),
    ).toEqual({
      'cpu.usage_pct': 3,
    });
  });
});

describe('TelemetryService (real collector, real spool, link offline)', () => {
  const dir = useTempDir('agentbox-telemetry-');
  let sut: TelemetryService;
  let outbox: OutboxService;
  let runtime: RuntimeSettingsService;

  beforeEach(async () => {
    const box = await enrolledBox(dir.path, { env: { AGENTBOX_TELEMETRY_INTERVAL_SEC: '1' } });
    runtime = box.runtime;
    outbox = box.outbox;
    await outbox.open();
    sut = new TelemetryService(box.collector, outbox, runtime, box.seq);
  });

  afterEach(async () => {
    await sut.stop();
    await outbox.close();
  });

  it('tick() spools one valid telemetry message with a fresh seq', async () => {
    const first = await sut.tick();
    const second = await sut.tick();
    expect(TelemetryMessageSchema.safeParse(first).success).toBe(true);
    expect(second!.seq).toBeGreaterThan(first!.seq);
    expect(outbox.stats()?.records).toBe(2);
  });

  it('samples every interval while offline and follows an interval change', async () => {
    sut.start();
    await new Promise((resolve) => setTimeout(resolve, 2_600));
    const atOneSecond = outbox.stats()!.records;
    expect(atOneSecond).toBeGreaterThanOrEqual(2);
    runtime.apply({ telemetryIntervalSec: 3_600, desiredVersion: 1 });
    // A sample already being taken may still land; after that, nothing for the next hour.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterChange = outbox.stats()!.records;
    expect(afterChange - atOneSecond).toBeLessThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(outbox.stats()!.records).toBe(afterChange);
  });
});
