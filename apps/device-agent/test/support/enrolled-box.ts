import { BoxConfig } from '../../src/config/box-config.js';
import { CredentialsStore } from '../../src/modules/identity/credentials.store.js';
import { IdentityService } from '../../src/modules/identity/identity.service.js';
import { BirthService } from '../../src/modules/link/birth.service.js';
import { LinkService } from '../../src/modules/link/link.service.js';
import { OutboxService } from '../../src/modules/outbox/outbox.service.js';
import { createMetricsCollector } from '../../src/modules/runtime/metrics-collector.js';
import { RuntimeSettingsService } from '../../src/modules/runtime/runtime-settings.service.js';
import { SequenceService } from '../../src/modules/sequence/sequence.service.js';

export interface EnrolledBoxOptions {
  /** The broker in the stored credentials; by default a port nobody listens on. */
  mqttUrl?: string;
  /** More of agent.env than AGENTBOX_STATE_DIR. */
  env?: Record<string, string>;
}

/**
 * The services the box's features stand on, real and wired as the app module wires them, for a box enrolled
 * as `box-1` (its credentials stored in `stateDir` and loaded the way the box loads them at start). The link
 * is not started, so the box is offline until a test starts it; the outbox is not opened.
 */
export async function enrolledBox(stateDir: string, options: EnrolledBoxOptions = {}) {
  await new CredentialsStore(stateDir).save({
    deviceId: 'box-1',
    hardwareId: 'hw-0123456789',
    mqtt: {
      url: options.mqttUrl ?? 'mqtt://127.0.0.1:1',
      username: 'box-1',
      password: 'secret-secret-secret',
    },
    enrolledAt: new Date(0).toISOString(),
  });
  const config = BoxConfig.fromEnv({ AGENTBOX_STATE_DIR: stateDir, ...options.env });
  const runtime = new RuntimeSettingsService(config);
  const seq = new SequenceService(config);
  const identity = new IdentityService(config);
  await identity.ensureEnrolled();
  const collector = createMetricsCollector();
  const link = new LinkService(
    config,
    identity,
    seq,
    new BirthService(collector, runtime, undefined, config),
  );
  const outbox = new OutboxService(config, identity, link, seq);
  return { config, runtime, seq, identity, collector, link, outbox };
}
