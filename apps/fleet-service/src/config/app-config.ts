import { resolve } from 'node:path';
import { artifactStorage, type ArtifactStorage } from './artifact-storage.js';
import { FleetEnvSchema, type FleetEnv } from './fleet-env.schema.js';

export class ConfigError extends Error {}

/** The validated configuration every module injects (`constructor(private readonly config: AppConfig)`). */
export class AppConfig {
  readonly httpPort: number;
  readonly httpHost: string;
  readonly trustProxy: boolean;
  readonly dataDir: string;
  readonly database: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; schema: string };
  readonly mqtt: {
    /** Unset = embedded broker. */
    externalUrl: string | undefined;
    username: string | undefined;
    password: string | undefined;
    dynsec: boolean;
    /** Dynamic security: how often box clients and roles the broker lost are re-created. */
    dynsecReconcileMs: number;
    /** Embedded broker port; `portExplicit` false means a free port may be chosen if 1883 is taken. */
    port: number;
    portExplicit: boolean;
    host: string;
    publicUrl: string | undefined;
    /** Embedded broker: CONNECT authentications in flight at once before new ones are refused as busy. */
    maxPendingConnects: number;
  };
  readonly publicUrl: string | undefined;
  readonly replicaId: string | undefined;
  readonly adminPassword: string | undefined;
  readonly jwtSecret: string | undefined;
  readonly maxPayloadBytes: number;
  readonly logLevel: FleetEnv['AGENTBOX_LOG_LEVEL'];
  readonly consoleDir: string | undefined;
  readonly telemetryRetentionDays: number;
  readonly telemetryRollups: { minuteDays: number; hourDays: number; tickMs: number };
  readonly ingest: {
    flushIntervalMs: number;
    maxBatchSamples: number;
    maxBufferedSamples: number;
    receiveMaximum: number;
  };
  readonly secrets: { key: string | undefined; previousKeys: string[] };
  readonly taskTimeoutMs: number;
  readonly liveCheckMs: number;
  readonly hooks: { deliveryTtlSec: number; ratePerMinute: number; sweepMs: number };
  readonly rolloutTickMs: number;
  readonly alerts: { tickMs: number; renotifyMs: number };
  readonly ota: {
    rootFile: string | undefined;
    clockSlackMs: number;
    artifacts: ArtifactStorage;
    artifactMaxBytes: number;
    downloadTokenTtlSec: number;
  };

  constructor(env: FleetEnv, artifacts: ArtifactStorage) {
    this.httpPort = env.AGENTBOX_HTTP_PORT;
    this.httpHost = env.AGENTBOX_HTTP_HOST;
    this.trustProxy = env.AGENTBOX_TRUST_PROXY;
    this.dataDir = resolve(env.AGENTBOX_DATA_DIR);
    this.database = env.DATABASE_URL
      ? { type: 'postgres', url: env.DATABASE_URL, schema: env.AGENTBOX_DB_SCHEMA }
      : { type: 'sqlite', path: resolve(this.dataDir, 'fleet.sqlite') };
    this.mqtt = {
      externalUrl: env.AGENTBOX_MQTT_URL,
      username: env.AGENTBOX_MQTT_USERNAME,
      password: env.AGENTBOX_MQTT_PASSWORD,
      dynsec: env.AGENTBOX_MQTT_DYNSEC,
      dynsecReconcileMs: env.AGENTBOX_MQTT_DYNSEC_RECONCILE_SEC * 1_000,
      port: env.AGENTBOX_MQTT_PORT ?? 1883,
      portExplicit: env.AGENTBOX_MQTT_PORT !== undefined,
      host: env.AGENTBOX_MQTT_HOST,
      publicUrl: env.AGENTBOX_PUBLIC_MQTT_URL,
      maxPendingConnects: env.AGENTBOX_MQTT_MAX_PENDING_CONNECTS,
    };
    this.publicUrl = env.AGENTBOX_PUBLIC_URL;
    this.replicaId = env.AGENTBOX_REPLICA_ID;
    this.adminPassword = env.AGENTBOX_ADMIN_PASSWORD;
    this.jwtSecret = env.AGENTBOX_JWT_SECRET;
    this.maxPayloadBytes = env.AGENTBOX_MAX_PAYLOAD_BYTES;
    this.logLevel = env.AGENTBOX_LOG_LEVEL;
    this.consoleDir = env.AGENTBOX_CONSOLE_DIR;
    this.telemetryRetentionDays = env.AGENTBOX_TELEMETRY_RETENTION_DAYS;
    this.telemetryRollups = {
      minuteDays: env.AGENTBOX_TELEMETRY_MINUTE_ROLLUP_DAYS,
      hourDays: env.AGENTBOX_TELEMETRY_HOUR_ROLLUP_DAYS,
      tickMs: env.AGENTBOX_TELEMETRY_ROLLUP_TICK_MS,
    };
    this.ingest = {
      flushIntervalMs: env.AGENTBOX_INGEST_FLUSH_MS,
      maxBatchSamples: env.AGENTBOX_INGEST_BATCH_SAMPLES,
      maxBufferedSamples: env.AGENTBOX_INGEST_MAX_BUFFERED_SAMPLES,
      receiveMaximum: env.AGENTBOX_INGEST_RECEIVE_MAXIMUM,
    };
    this.secrets = {
      key: env.AGENTBOX_SECRETS_KEY,
      previousKeys: env.AGENTBOX_SECRETS_KEY_PREVIOUS ?? [],
    };
    this.taskTimeoutMs = env.AGENTBOX_TASK_TIMEOUT_MS;
    this.liveCheckMs = env.AGENTBOX_LIVE_CHECK_MS;
    this.hooks = {
      deliveryTtlSec: env.AGENTBOX_HOOK_DELIVERY_TTL_SEC,
      ratePerMinute: env.AGENTBOX_HOOK_RATE_PER_MIN,
      sweepMs: env.AGENTBOX_HOOK_SWEEP_MS,
    };
    this.rolloutTickMs = env.AGENTBOX_ROLLOUT_TICK_MS;
    this.alerts = { tickMs: env.AGENTBOX_ALERT_TICK_MS, renotifyMs: env.AGENTBOX_ALERT_RENOTIFY_MS };
    this.ota = {
      rootFile: env.AGENTBOX_OTA_ROOT_FILE === undefined ? undefined : resolve(env.AGENTBOX_OTA_ROOT_FILE),
      clockSlackMs: env.AGENTBOX_OTA_CLOCK_SLACK_SEC * 1_000,
      artifacts,
      artifactMaxBytes: env.AGENTBOX_ARTIFACT_MAX_BYTES,
      downloadTokenTtlSec: env.AGENTBOX_DOWNLOAD_TOKEN_TTL_SEC,
    };
  }

  /** Validates the environment; throws a ConfigError naming every bad variable and how to fix it. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
    const parsed = FleetEnvSchema.safeParse(cleaned);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
      throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
    }
    if (parsed.data.AGENTBOX_MQTT_DYNSEC && !parsed.data.AGENTBOX_MQTT_URL) {
      throw new ConfigError(
        'Invalid configuration:\n  AGENTBOX_MQTT_DYNSEC: needs AGENTBOX_MQTT_URL (an external Mosquitto)',
      );
    }
    const artifacts = artifactStorage(
      parsed.data,
      resolve(parsed.data.AGENTBOX_DATA_DIR),
      cleaned.AWS_REGION,
    );
    if (Array.isArray(artifacts)) {
      throw new ConfigError(`Invalid configuration:\n${artifacts.map((line) => `  ${line}`).join('\n')}`);
    }
    return new AppConfig(parsed.data, artifacts);
  }
}
