import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SimulatedBox, waitFor as waitUntil, type SimulatedBoxOptions } from '@agentbox/test-support';
import { AppConfig } from '../src/config/app-config.js';
import { ConfigModule } from '../src/config/config.module.js';
import { DatabaseModule } from '../src/database/database.module.js';
import { BrokerModule } from '../src/modules/broker/broker.module.js';
import { BrokerService } from '../src/modules/broker/broker.service.js';
import type { RetainedPacket, RetainedPersistence } from '../src/modules/broker/retained-index.js';
import { DesiredStateModule } from '../src/modules/desired-state/desired-state.module.js';
import { DevicesModule } from '../src/modules/devices/devices.module.js';
import { DevicesService } from '../src/modules/devices/devices.service.js';
import { IngestModule } from '../src/modules/ingest/ingest.module.js';
import { IngestService } from '../src/modules/ingest/ingest.service.js';
import { LiveModule } from '../src/modules/live/live.module.js';
import { MetricsModule } from '../src/modules/metrics/metrics.module.js';
import { MetricsService } from '../src/modules/metrics/metrics.service.js';
import { TelemetryModule } from '../src/modules/telemetry/telemetry.module.js';
import { lateBound, setUp } from './support/late-bound.js';

/** The MQTT side of the fleet service with its real dependencies: a SQLite file, the device registry, aedes. */
@Module({})
class MqttSideModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MqttSideModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        LiveModule,
        DatabaseModule,
        DevicesModule,
        BrokerModule,
        TelemetryModule,
        DesiredStateModule,
        IngestModule,
      ],
    };
  }
}

export interface MqttSide {
  app: INestApplicationContext;
  config: AppConfig;
  broker: BrokerService;
  devices: DevicesService;
  ingest: IngestService;
  metrics: MetricsService;
  /** mqtt://127.0.0.1:<port> of the embedded broker, or the external broker's URL. */
  url: string;
  /** Topics of the retained messages the embedded broker holds that match `filter`, sorted. */
  retainedTopics(filter: string): Promise<string[]>;
  /** Closes the app; the data dir is removed unless `keepData`. */
  close(keepData?: boolean): Promise<void>;
}

/** Boots the MQTT-side modules on a temp data dir; `env` adds or overrides variables (external broker, ...). */
export async function startMqttSide(env: Record<string, string> = {}): Promise<MqttSide> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentbox-mqtt-side-'));
  const config = AppConfig.fromEnv({
    AGENTBOX_DATA_DIR: dataDir,
    AGENTBOX_MQTT_HOST: '127.0.0.1',
    AGENTBOX_MQTT_PORT: '0',
    AGENTBOX_MAX_PAYLOAD_BYTES: String(16 * 1024),
    AGENTBOX_LOG_LEVEL: 'error',
    ...env,
  });
  const app = await NestFactory.createApplicationContext(MqttSideModule.forRoot(config), {
    logger: ['error'],
    abortOnError: false,
  });
  await app.init();
  const broker = app.get(BrokerService);
  return {
    app,
    config,
    broker,
    devices: app.get(DevicesService),
    ingest: app.get(IngestService),
    metrics: app.get(MetricsService),
    url: config.mqtt.externalUrl ?? `mqtt://127.0.0.1:${broker.port}`,
    async retainedTopics(filter: string) {
      // The broker's own store, read the way aedes reads it for a SUBSCRIBE (retained-index.ts).
      const persistence = (
        broker as unknown as { embedded?: { aedes?: { persistence: RetainedPersistence } } }
      ).embedded?.aedes?.persistence;
      if (!persistence) throw new Error('no embedded broker');
      const found: string[] = [];
      for await (const packet of persistence.createRetainedStream(filter) as AsyncIterable<RetainedPacket>)
        found.push(packet.topic);
      return found.sort();
    },
    async close(keepData = false) {
      await app.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface EnrolledBox {
  deviceId: string;
  secret: string;
}

/** Enrols a box in the registry and returns its id and secret. */
export async function enrollBox(
  side: Pick<MqttSide, 'devices' | 'broker'>,
  hardwareId: string,
): Promise<EnrolledBox> {
  const secret = `secret-${hardwareId}-0123456789abcdef`;
  const { deviceId } = await side.devices.enroll(hardwareId, undefined, secret);
  await side.broker.upsertDeviceCredentials(deviceId, secret);
  return { deviceId, secret };
}

/** Connects an enrolled box to the side's broker as a SimulatedBox (not online yet: see `goOnline`). */
export function connectBox(
  side: Pick<MqttSide, 'url'>,
  box: EnrolledBox,
  options: Partial<SimulatedBoxOptions> = {},
): Promise<SimulatedBox> {
  return SimulatedBox.connect({ url: side.url, deviceId: box.deviceId, password: box.secret, ...options });
}

/** Current value of a counter or gauge for the given labels (0 when the series does not exist). */
export async function metricValue(
  side: Pick<MqttSide, 'metrics'>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = side.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  const match = data.values.find((value) =>
    Object.entries(labels).every(
      ([key, expected]) => String((value.labels as Record<string, unknown>)[key]) === expected,
    ),
  );
  return match?.value ?? 0;
}

/** Polls `probe` every 25 ms until it returns a truthy value, for at most `timeoutMs`. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  return waitUntil(what, probe, { timeoutMs, intervalMs: 25 });
}

/** The MQTT side of a describe block, with two enrolled boxes; `useMqttSide` closes it. */
export interface MqttSideFixture {
  side: Omit<MqttSide, 'close'>;
  /** Enrolled as `<hardwarePrefix>-a` and `<hardwarePrefix>-b` once the side is up. */
  a: EnrolledBox;
  b: EnrolledBox;
  /** Connects an enrolled box (connectBox); it is dropped after the block. */
  connect: (box: EnrolledBox, options?: Partial<SimulatedBoxOptions>) => Promise<SimulatedBox>;
}

/**
 * Starts the MQTT side for the enclosing describe block (beforeAll) and enrols boxes a and b; after the
 * block's own afterAll hooks, drops every box `connect` made and closes the side. `env` is read when
 * the side starts. The returned side and boxes read through to the started ones.
 */
export function useMqttSide(
  hardwarePrefix: string,
  env: () => Record<string, string> = () => ({}),
): MqttSideFixture {
  let side: MqttSide | undefined;
  const enrolled: Partial<Record<'a' | 'b', EnrolledBox>> = {};
  const connected: SimulatedBox[] = [];
  beforeAll(async () => {
    side = await startMqttSide(env());
    // Boxes are enrolled through the broker's dynamic security, once the service's client is in.
    if (side.broker.mode === 'external')
      await waitFor('service client connected', () => side?.broker.isReady());
    enrolled.a = await enrollBox(side, `${hardwarePrefix}-a`);
    enrolled.b = await enrollBox(side, `${hardwarePrefix}-b`);
  });
  afterAll(async () => {
    await Promise.all(connected.map((box) => box.drop()));
    await side?.close();
  });
  const current = () => setUp(side, 'The MQTT side');
  return {
    side: lateBound(current),
    a: lateBound(() => setUp(enrolled.a, 'Box a')),
    b: lateBound(() => setUp(enrolled.b, 'Box b')),
    connect: async (box, options = {}) => {
      const client = await connectBox(current(), box, options);
      connected.push(client);
      return client;
    },
  };
}
