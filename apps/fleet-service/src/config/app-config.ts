import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '@agentbox/schemas';

const Port = z.coerce.number().int().min(0).max(65_535);
const Bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** base64 of exactly 32 bytes (an AES-256 key). */
const SecretsKey = z
  .string()
  .refine(
    (value) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32,
    'must be base64 of 32 random bytes, e.g. the output of `openssl rand -base64 32`',
  );

/** Environment of the fleet service (docs/operations.md "Fleet service configuration"), validated at boot. */
export const FleetEnvSchema = z.object({
  AGENTBOX_HTTP_PORT: Port.default(8080),
  AGENTBOX_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** Behind a reverse proxy: take the client address and scheme from X-Forwarded-* headers. */
  AGENTBOX_TRUST_PROXY: Bool.default(false),
  AGENTBOX_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// (leave it unset for SQLite)')
    .optional(),
  /** PostgreSQL schema to use (tests run each in a schema of their own). */
  AGENTBOX_DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('public'),
  AGENTBOX_MQTT_URL: z.url({ protocol: /^mqtts?$/ }).optional(),
  /** Service account the fleet service uses on an external broker. */
  AGENTBOX_MQTT_USERNAME: z.string().min(1).optional(),
  AGENTBOX_MQTT_PASSWORD: z.string().min(1).optional(),
  /** External Mosquitto: manage per-box credentials and ACLs through the dynamic-security plugin. */
  AGENTBOX_MQTT_DYNSEC: Bool.default(false),
  /** Names this replica's persistent session on an external broker; defaults to host name + data dir. */
  AGENTBOX_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/)
    .optional(),
  AGENTBOX_MQTT_PORT: Port.optional(),
  AGENTBOX_MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  AGENTBOX_PUBLIC_MQTT_URL: z.url({ protocol: /^mqtts?$/ }).optional(),
  /** URL of this service as boxes and people reach it; shown in the console's "Add box" command. */
  AGENTBOX_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  AGENTBOX_ADMIN_PASSWORD: z
    .string()
    .min(8, 'AGENTBOX_ADMIN_PASSWORD needs at least 8 characters')
    .optional(),
  AGENTBOX_JWT_SECRET: z.string().min(32, 'AGENTBOX_JWT_SECRET needs at least 32 characters').optional(),
  AGENTBOX_MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(268_435_455)
    .default(DEFAULT_MAX_PAYLOAD_BYTES),
  AGENTBOX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Telemetry samples and device events older than this are deleted (hourly). */
  AGENTBOX_TELEMETRY_RETENTION_DAYS: z.coerce.number().positive().max(3_650).default(7),
  /** Ingest writes buffered telemetry at the latest this long after the first sample arrived... */
  AGENTBOX_INGEST_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  /** ...or as soon as this many samples are buffered: one transaction per batch. */
  AGENTBOX_INGEST_BATCH_SAMPLES: z.coerce.number().int().min(1).max(20_000).default(1_000),
  /** Directory of the built console; defaults to apps/console/dist next to this service. */
  AGENTBOX_CONSOLE_DIR: z.string().min(1).optional(),
  /**
   * Key that encrypts provider API keys at rest: base64 of 32 bytes. Unset: generated into
   * <dataDir>/secrets.key on first start. Replicas sharing one PostgreSQL database must all set the same one.
   */
  AGENTBOX_SECRETS_KEY: SecretsKey.optional(),
  /** Former keys (comma-separated), still accepted for reading while rows are re-encrypted at start. */
  AGENTBOX_SECRETS_KEY_PREVIOUS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    )
    .pipe(z.array(SecretsKey).max(10))
    .optional(),
  /** How long POST /agents/:id/tasks waits for the box to answer the agent.run command. */
  AGENTBOX_TASK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** A signed root.json installed as the trusted OTA root at start (when newer than the stored one). */
  AGENTBOX_OTA_ROOT_FILE: z.string().min(1).optional(),
  /** Tolerated clock difference when checking signed metadata expiry. */
  AGENTBOX_OTA_CLOCK_SLACK_SEC: z.coerce.number().int().min(0).max(86_400).default(600),
  /** Where release bundles are stored on disk; defaults to <dataDir>/artifacts. */
  AGENTBOX_ARTIFACTS_DIR: z.string().min(1).optional(),
  /** Set: release bundles live in this S3-compatible bucket instead of on disk (shared by replicas). */
  AGENTBOX_ARTIFACTS_S3_BUCKET: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/,
      'must be a bucket name (letters, digits, dots, hyphens, underscores; 3 to 255 characters)',
    )
    .optional(),
  /** The S3 API's URL for MinIO, Ceph RGW, R2…; unset: AWS S3 of the region. */
  AGENTBOX_ARTIFACTS_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  AGENTBOX_ARTIFACTS_S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'must be a region name such as eu-west-1 (auto for R2)')
    .optional(),
  /** Key prefix inside the bucket, e.g. `agentbox/releases/`. */
  AGENTBOX_ARTIFACTS_S3_PREFIX: z
    .string()
    .max(512)
    .regex(
      /^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*$/,
      "must be a key prefix of letters, digits, '/' and !_.*'()- that does not start with '/'",
    )
    .optional(),
  /** Address buckets as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>` (MinIO, Ceph). */
  AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE: Bool.default(false),
  /** Both or neither; neither: the AWS SDK's own chain (AWS_* variables, role, profile). */
  AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Largest release bundle accepted (bytes). */
  AGENTBOX_ARTIFACT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(16 * 1024 ** 3)
    .default(1024 ** 3),
  /** How long a box's download token for one release stays valid. */
  AGENTBOX_DOWNLOAD_TOKEN_TTL_SEC: z.coerce
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .default(7 * 86_400),
});
export type FleetEnv = z.infer<typeof FleetEnvSchema>;

export class ConfigError extends Error {}

/** Static S3 credentials; the secret is not enumerable, so it never shows in a logged or serialized config. */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

function s3Credentials(accessKeyId: string, secretAccessKey: string): S3Credentials {
  const credentials = { accessKeyId } as S3Credentials;
  Object.defineProperty(credentials, 'secretAccessKey', { value: secretAccessKey, enumerable: false });
  return credentials;
}

export interface DiskArtifactStorage {
  type: 'disk';
  dir: string;
}

export interface S3ArtifactStorage {
  type: 's3';
  bucket: string;
  /** Empty, or ends with '/'. */
  prefix: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Unset: the AWS SDK's default credential chain. */
  credentials: S3Credentials | undefined;
}

export type ArtifactStorage = DiskArtifactStorage | S3ArtifactStorage;

/** Where release bundles are kept, or the configuration problems that prevent knowing it. */
function artifactStorage(
  env: FleetEnv,
  dataDir: string,
  awsRegion: string | undefined,
): ArtifactStorage | string[] {
  const bucket = env.AGENTBOX_ARTIFACTS_S3_BUCKET;
  const s3Settings = (Object.keys(env) as (keyof FleetEnv)[]).filter(
    (name) =>
      name.startsWith('AGENTBOX_ARTIFACTS_S3_') &&
      name !== 'AGENTBOX_ARTIFACTS_S3_BUCKET' &&
      name !== 'AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE' &&
      env[name] !== undefined,
  );
  if (bucket === undefined) {
    if (s3Settings.length > 0) {
      return s3Settings.map(
        (name) => `${name}: needs AGENTBOX_ARTIFACTS_S3_BUCKET (S3 storage of release bundles)`,
      );
    }
    return { type: 'disk', dir: resolve(env.AGENTBOX_ARTIFACTS_DIR ?? resolve(dataDir, 'artifacts')) };
  }
  const problems: string[] = [];
  if (env.AGENTBOX_ARTIFACTS_DIR !== undefined) {
    problems.push(
      'AGENTBOX_ARTIFACTS_DIR: release bundles go to AGENTBOX_ARTIFACTS_S3_BUCKET; set one of the two, not both',
    );
  }
  const accessKeyId = env.AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    problems.push(
      accessKeyId === undefined
        ? 'AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID: needed with AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY'
        : 'AGENTBOX_ARTIFACTS_S3_SECRET_ACCESS_KEY: needed with AGENTBOX_ARTIFACTS_S3_ACCESS_KEY_ID',
    );
  }
  const endpoint = env.AGENTBOX_ARTIFACTS_S3_ENDPOINT;
  // S3-compatible stores mostly ignore the region but the request signature names one.
  const region =
    env.AGENTBOX_ARTIFACTS_S3_REGION ?? awsRegion ?? (endpoint === undefined ? undefined : 'us-east-1');
  if (region === undefined) {
    problems.push(
      'AGENTBOX_ARTIFACTS_S3_REGION: needed for AWS S3 (or AWS_REGION), e.g. eu-west-1; or set AGENTBOX_ARTIFACTS_S3_ENDPOINT',
    );
  }
  if (problems.length > 0 || region === undefined) return problems;
  const prefix = env.AGENTBOX_ARTIFACTS_S3_PREFIX ?? '';
  return {
    type: 's3',
    bucket,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    region,
    endpoint,
    forcePathStyle: env.AGENTBOX_ARTIFACTS_S3_FORCE_PATH_STYLE,
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? s3Credentials(accessKeyId, secretAccessKey)
        : undefined,
  };
}

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
    /** Embedded broker port; `portExplicit` false means a free port may be chosen if 1883 is taken. */
    port: number;
    portExplicit: boolean;
    host: string;
    publicUrl: string | undefined;
  };
  readonly publicUrl: string | undefined;
  readonly replicaId: string | undefined;
  readonly adminPassword: string | undefined;
  readonly jwtSecret: string | undefined;
  readonly maxPayloadBytes: number;
  readonly logLevel: FleetEnv['AGENTBOX_LOG_LEVEL'];
  readonly consoleDir: string | undefined;
  readonly telemetryRetentionDays: number;
  readonly ingest: { flushIntervalMs: number; maxBatchSamples: number };
  readonly secrets: { key: string | undefined; previousKeys: string[] };
  readonly taskTimeoutMs: number;
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
      port: env.AGENTBOX_MQTT_PORT ?? 1883,
      portExplicit: env.AGENTBOX_MQTT_PORT !== undefined,
      host: env.AGENTBOX_MQTT_HOST,
      publicUrl: env.AGENTBOX_PUBLIC_MQTT_URL,
    };
    this.publicUrl = env.AGENTBOX_PUBLIC_URL;
    this.replicaId = env.AGENTBOX_REPLICA_ID;
    this.adminPassword = env.AGENTBOX_ADMIN_PASSWORD;
    this.jwtSecret = env.AGENTBOX_JWT_SECRET;
    this.maxPayloadBytes = env.AGENTBOX_MAX_PAYLOAD_BYTES;
    this.logLevel = env.AGENTBOX_LOG_LEVEL;
    this.consoleDir = env.AGENTBOX_CONSOLE_DIR;
    this.telemetryRetentionDays = env.AGENTBOX_TELEMETRY_RETENTION_DAYS;
    this.ingest = {
      flushIntervalMs: env.AGENTBOX_INGEST_FLUSH_MS,
      maxBatchSamples: env.AGENTBOX_INGEST_BATCH_SAMPLES,
    };
    this.secrets = {
      key: env.AGENTBOX_SECRETS_KEY,
      previousKeys: env.AGENTBOX_SECRETS_KEY_PREVIOUS ?? [],
    };
    this.taskTimeoutMs = env.AGENTBOX_TASK_TIMEOUT_MS;
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
