import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TelemetryMessageSchema } from '@agentbox/schemas';
import { BoxConfig } from '../../config/box-config.js';
import { CredentialsStore } from '../identity/credentials.store.js';
import { IdentityService } from '../identity/identity.service.js';
import { BirthService } from '../link/birth.service.js';
import { LinkService } from '../link/link.service.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { createMetricsCollector } from '../runtime/metrics-collector.js';
import { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';
import { SequenceService } from '../sequence/sequence.service.js';
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
  let dir: string;
  let sut: TelemetryService;
  let outbox: OutboxService;
  let runtime: RuntimeSettingsService;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentbox-telemetry-'));
    await new CredentialsStore(dir).save({
      deviceId: 'box-1',
      hardwareId: 'hw-0123456789',
      mqtt: { url: 'mqtt://127.0.0.1:1', username: 'box-1', password: 'secret-secret-secret' },
      enrolledAt: new Date(0).toISOString(),
    });
    const config = BoxConfig.fromEnv({ AGENTBOX_STATE_DIR: dir, AGENTBOX_TELEMETRY_INTERVAL_SEC: '1' });
    runtime = new RuntimeSettingsService(config);
    const seq = new SequenceService(config);
    const identity = new IdentityService(config);
    await identity.ensureEnrolled();
    const collector = createMetricsCollector();
    const link = new LinkService(config, identity, seq, new BirthService(collector, runtime));
    outbox = new OutboxService(config, identity, link, seq);
    await outbox.open();
    sut = new TelemetryService(collector, outbox, runtime, seq);
  });

  afterEach(async () => {
    await sut.stop();
    await outbox.close();
    await rm(dir, { recursive: true, force: true });
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
