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
  /** Dynamic security: seconds between passes re-creating box clients and roles the broker lost. */
  AGENTBOX_MQTT_DYNSEC_RECONCILE_SEC: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Names this replica's persistent session on an external broker; defaults to host name + data dir. */
  AGENTBOX_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/)
    .optional(),
  AGENTBOX_MQTT_PORT: Port.optional(),
  AGENTBOX_MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Embedded broker: CONNECTs whose credentials are being checked at once; beyond it a box is told to come
   * back later (CONNACK 0x89 Server busy) instead of queueing behind a whole reconnecting fleet.
   */
  AGENTBOX_MQTT_MAX_PENDING_CONNECTS: z.coerce.number().int().min(1).max(100_000).default(256),
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
  /** How long 1-minute telemetry rollups are kept (docs/operations.md, "Telemetry rollups"). */
  AGENTBOX_TELEMETRY_MINUTE_ROLLUP_DAYS: z.coerce.number().positive().max(3_650).default(30),
  /** How long 1-hour telemetry rollups are kept. */
  AGENTBOX_TELEMETRY_HOUR_ROLLUP_DAYS: z.coerce.number().positive().max(3_650).default(400),
  /** How often telemetry is rolled up. */
  AGENTBOX_TELEMETRY_ROLLUP_TICK_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Ingest writes buffered telemetry at the latest this long after the first sample arrived... */
  AGENTBOX_INGEST_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  /** ...or as soon as this many samples are buffered: one transaction per batch. */
  AGENTBOX_INGEST_BATCH_SAMPLES: z.coerce.number().int().min(1).max(20_000).default(1_000),
  /**
   * Samples (and records) ingest holds at most, written or waiting for a database that is away; beyond it
   * new messages are turned away as busy (docs/operations.md, "Faults on the data path").
   */
  AGENTBOX_INGEST_MAX_BUFFERED_SAMPLES: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * External broker: at most this many QoS 1 messages in flight to this replica's session, its MQTT 5
   * Receive Maximum (docs/operations.md, "Ingest behind an external broker"); the broker queues the rest.
   */
  AGENTBOX_INGEST_RECEIVE_MAXIMUM: z.coerce.number().int().min(1).max(65_535).default(1_000),
  /** How often the leading replica steps the rollout engine. */
  AGENTBOX_ROLLOUT_TICK_MS: z.coerce.number().int().min(20).max(600_000).default(5_000),
  /** How often the leading replica evaluates alert rules (docs/operations.md, "Alerts"). */
  AGENTBOX_ALERT_TICK_MS: z.coerce.number().int().min(20).max(600_000).default(15_000),
  /** At most one firing notification per alert this often, so a flapping box does not storm. */
  AGENTBOX_ALERT_RENOTIFY_MS: z.coerce.number().int().min(0).max(86_400_000).default(900_000),
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
  /**
   * How often an open live stream sends a keep-alive and re-checks its caller: a user disabled,
   * deleted or whose password was reset, or an API key revoked, loses the stream within this time.
   */
  AGENTBOX_LIVE_CHECK_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /** How long POST /agents/:id/tasks waits for the box to answer the agent.run command. */
  AGENTBOX_TASK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** How long a hook invocation waits for an offline box before it is marked expired (a hook may set its own). */
  AGENTBOX_HOOK_DELIVERY_TTL_SEC: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3_600),
  /** Invocations per minute each hook accepts on each replica (429 HOOK_RATE_LIMITED beyond). */
  AGENTBOX_HOOK_RATE_PER_MIN: z.coerce.number().int().min(1).max(100_000).default(60),
  /** How often each replica expires queued hook deliveries and delivers those of boxes back online. */
  AGENTBOX_HOOK_SWEEP_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
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
