import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { HardwareIdSchema } from '@agentbox/schemas';

const PositiveInt = (max: number) => z.coerce.number().int().positive().max(max);

/** Environment of the device agent (docs/operations.md "Device agent configuration"), validated at boot. */
export const AgentEnvSchema = z.object({
  AGENTBOX_FLEET_URL: z
    .url({ protocol: /^https?$/, error: 'AGENTBOX_FLEET_URL must be an http(s) URL' })
    .optional(),
  AGENTBOX_CLAIM_TOKEN: z
    .string()
    .min(16, 'AGENTBOX_CLAIM_TOKEN looks truncated (16 characters at least)')
    .max(200)
    .optional(),
  AGENTBOX_STATE_DIR: z.string().min(1).default('/var/lib/agentbox'),
  AGENTBOX_DEVICE_NAME: z.string().min(1).max(100).optional(),
  AGENTBOX_HARDWARE_ID: HardwareIdSchema.optional(),
  AGENTBOX_MQTT_URL: z
    .url({ protocol: /^(mqtts?|wss?)$/, error: 'AGENTBOX_MQTT_URL must be an mqtt(s):// URL' })
    .optional(),
  AGENTBOX_TELEMETRY_INTERVAL_SEC: z.coerce.number().min(1).max(3_600).default(5),
  AGENTBOX_MQTT_KEEPALIVE_SEC: PositiveInt(3_600).default(10),
  AGENTBOX_SPOOL_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(64 * 1024 * 1024),
  /** Loopback port of the agents' webhook trigger; 0 turns the webhook off. */
  AGENTBOX_WEBHOOK_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535, 'AGENTBOX_WEBHOOK_PORT must be a TCP port (0 turns the webhook off)')
    .default(7450),
  AGENTBOX_RUN_RETENTION_DAYS: PositiveInt(3_650).default(30),
  AGENTBOX_RUN_RETENTION_MB: PositiveInt(100_000).default(100),
  /** Set by the launcher: its boot.json; without it the agent has no slots and takes no updates. */
  AGENTBOX_BOOT_STATE: z.string().min(1).optional(),
  /** Set by the launcher: the slot this process runs from. */
  AGENTBOX_SLOT: z.enum(['a', 'b']).optional(),
  /** Set by the launcher to 1 when this process is a new version on probation. */
  AGENTBOX_BOOT_PENDING: z.enum(['0', '1']).default('0'),
  /** Free disk kept beyond what an update needs (download plus unpacked bundle). */
  AGENTBOX_OTA_DISK_RESERVE_MB: z.coerce.number().int().min(0).max(1_000_000).default(64),
  AGENTBOX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type AgentEnv = z.infer<typeof AgentEnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validated configuration every module injects (`constructor(private readonly config: AgentConfig)`). */
export class AgentConfig {
  readonly fleetUrl: string | undefined;
  /** Only needed on first boot, and for re-enrolment when the broker refuses stored credentials. */
  readonly claimToken: string | undefined;
  /** Absolute, so the hardware id derived from it is the same whatever the working directory. */
  readonly stateDir: string;
  readonly deviceName: string;
  readonly hardwareIdOverride: string | undefined;
  readonly mqttUrlOverride: string | undefined;
  readonly telemetryIntervalSec: number;
  readonly keepaliveSec: number;
  readonly spoolMaxBytes: number;
  readonly logLevel: AgentEnv['AGENTBOX_LOG_LEVEL'];
  /** 0: no webhook. */
  readonly webhookPort: number;
  readonly runRetentionDays: number;
  readonly runRetentionBytes: number;
  readonly bootStatePath: string | undefined;
  readonly slot: 'a' | 'b' | undefined;
  readonly bootPending: boolean;
  readonly otaDiskReserveBytes: number;

  constructor(env: AgentEnv) {
    this.fleetUrl = env.AGENTBOX_FLEET_URL?.replace(/\/+$/, '');
    this.claimToken = env.AGENTBOX_CLAIM_TOKEN;
    this.stateDir = resolve(env.AGENTBOX_STATE_DIR);
    this.deviceName = env.AGENTBOX_DEVICE_NAME ?? (hostname().slice(0, 100) || 'agentbox');
    this.hardwareIdOverride = env.AGENTBOX_HARDWARE_ID;
    this.mqttUrlOverride = env.AGENTBOX_MQTT_URL;
    this.telemetryIntervalSec = env.AGENTBOX_TELEMETRY_INTERVAL_SEC;
    this.keepaliveSec = env.AGENTBOX_MQTT_KEEPALIVE_SEC;
    this.spoolMaxBytes = env.AGENTBOX_SPOOL_MAX_BYTES;
    this.logLevel = env.AGENTBOX_LOG_LEVEL;
    this.webhookPort = env.AGENTBOX_WEBHOOK_PORT;
    this.runRetentionDays = env.AGENTBOX_RUN_RETENTION_DAYS;
    this.runRetentionBytes = env.AGENTBOX_RUN_RETENTION_MB * 1024 * 1024;
    this.bootStatePath = env.AGENTBOX_BOOT_STATE ? resolve(env.AGENTBOX_BOOT_STATE) : undefined;
    this.slot = env.AGENTBOX_SLOT;
    this.bootPending = env.AGENTBOX_BOOT_PENDING === '1';
    this.otaDiskReserveBytes = env.AGENTBOX_OTA_DISK_RESERVE_MB * 1024 * 1024;
  }

  /** Parses the environment; throws a ConfigError naming every bad variable. Empty values count as unset. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AgentConfig {
    const cleaned = Object.fromEntries(
      Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
    );
    const parsed = AgentEnvSchema.safeParse(cleaned);
    if (!parsed.success) {
      const lines = parsed.error.issues.map(
        (issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`,
      );
      throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
    }
    return new AgentConfig(parsed.data);
  }
}
