import { BirthMessageSchema } from '@agentbox/schemas';
import { describe, expect, it } from 'vitest';
import { BoxConfig } from '../../config/box-config.js';
import type { MetricsCollector } from '../runtime/metrics-collector.js';
import { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';
import { BirthService } from './birth.service.js';

const collector: MetricsCollector = {
  collect: () => Promise.resolve({}),
  availableMetrics: () => Promise.resolve(['cpu.usage_pct']),
};

function birthOf(env: NodeJS.ProcessEnv) {
  const config = BoxConfig.fromEnv({ AGENTBOX_STATE_DIR: '/tmp/agentbox-birth-spec', ...env });
  return new BirthService(collector, new RuntimeSettingsService(config), undefined, config).build(1);
}

describe('BirthService', () => {
  it('says a box under the launcher takes updates over the air, and a box without slots does not', async () => {
    const slotted = await birthOf({ AGENTBOX_BOOT_STATE: '/var/lib/agentbox/boot.json' });
    expect(slotted.capabilities).toEqual(['telemetry', 'desired-state', 'commands', 'ota']);
    const plain = await birthOf({});
    expect(plain.capabilities).toEqual(['telemetry', 'desired-state', 'commands']);
    expect(BirthMessageSchema.parse(plain)).toEqual(plain);
  });
});
