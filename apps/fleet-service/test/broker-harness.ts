import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { SCHEMA_VERSION, encodeMessage, topics } from '@agentbox/schemas';
import { AppConfig } from '../src/config/app-config.js';
import { ConfigModule } from '../src/config/config.module.js';
import { DatabaseModule } from '../src/database/database.module.js';
import { BrokerModule } from '../src/modules/broker/broker.module.js';
import { BrokerService } from '../src/modules/broker/broker.service.js';
import { DesiredStateModule } from '../src/modules/desired-state/desired-state.module.js';
import { DevicesModule } from '../src/modules/devices/devices.module.js';
import { DevicesService } from '../src/modules/devices/devices.service.js';
import { IngestModule } from '../src/modules/ingest/ingest.module.js';
import { IngestService } from '../src/modules/ingest/ingest.service.js';
import { LiveModule } from '../src/modules/live/live.module.js';
import { MetricsModule } from '../src/modules/metrics/metrics.module.js';
import { MetricsService } from '../src/modules/metrics/metrics.service.js';
import { TelemetryModule } from '../src/modules/telemetry/telemetry.module.js';

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
    async close(keepData = false) {
      await app.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Enrols a box in the registry and returns its id and secret. */
export async function enrollBox(
  side: MqttSide,
  hardwareId: string,
): Promise<{ deviceId: string; secret: string }> {
  const secret = `secret-${hardwareId}-0123456789abcdef`;
  const { deviceId } = await side.devices.enroll(hardwareId, undefined, secret);
  await side.broker.upsertDeviceCredentials(deviceId, secret);
  return { deviceId, secret };
}

let seqCounter = 1;
export function nextSeq(): number {
  seqCounter += 1;
  return seqCounter;
}

export function statusPayload(state: 'online' | 'offline', seq = nextSeq()): Buffer {
  return encodeMessage({ v: SCHEMA_VERSION, seq, ts: Date.now(), state });
}

export function telemetryPayload(seq: number, samples = 1, ts = Date.now()): Buffer {
  return encodeMessage({
    v: SCHEMA_VERSION,
    seq,
    ts,
    samples: Array.from({ length: samples }, (_, i) => ({
      ts: ts + i,
      values: { 'cpu.usage_pct': i, 'mem.used_pct': 50 },
    })),
  });
}

/** Connects as a box: MQTT 5, client id = username = device id, Last Will `offline` retained on `up/status`. */
export async function connectBox(
  url: string,
  deviceId: string,
  secret: string,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: deviceId,
    username: deviceId,
    password: secret,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    will: { topic: topics.status(deviceId), payload: statusPayload('offline'), qos: 1, retain: true },
    ...extra,
  });
}

/** Tries to connect and returns the CONNACK reason code of the refusal (or 0 when accepted). */
export async function connectReasonCode(url: string, options: IClientOptions): Promise<number> {
  try {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    });
    await client.endAsync();
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

/** SUBACK reason codes of a subscription (granted QoS or the refusal code). */
export async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    return granted.map((g) => g.qos);
  } catch (error) {
    const packet = (error as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw error;
  }
}

/** Current value of a counter or gauge for the given labels (0 when the series does not exist). */
export async function metricValue(
  side: MqttSide,
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

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
