import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { HardwareIdSchema, NameSchema } from '@agentbox/schemas';
import { watchdogIntervalMs } from './systemd-watchdog.js';

const PositiveInt = (max: number) => z.coerce.number().int().positive().max(max);

/**
 * Environment of the device agent (docs/operations.md "Device agent configuration"), validated at boot:
 * the only place the device agent reads its environment.
 */
export const BoxEnvSchema = z.object({
  AGENTBOX_FLEET_URL: z
    .url({ protocol: /^https?$/, error: 'AGENTBOX_FLEET_URL must be an http(s) URL' })
    .optional(),
  AGENTBOX_CLAIM_TOKEN: z
    .string()
    .min(16, 'AGENTBOX_CLAIM_TOKEN looks truncated (16 characters at least)')
    .max(200)
    .optional(),
  AGENTBOX_STATE_DIR: z.string().min(1).default('/var/lib/agentbox'),
  /** The fleet service refuses a name its name rule refuses (packages/schemas names.ts): say so at boot. */
  AGENTBOX_DEVICE_NAME: NameSchema.optional(),
  AGENTBOX_HARDWARE_ID: HardwareIdSchema.optional(),
  AGENTBOX_MQTT_URL: z
    .url({ protocol: /^(mqtts?|wss?)$/, error: 'AGENTBOX_MQTT_URL must be an mqtt(s):// URL' })
    .optional(),
  /** Below 1 s only for tests and benchmarks (filling a spool quickly); the desired state asks 1 s or more. */
  AGENTBOX_TELEMETRY_INTERVAL_SEC: z.coerce.number().min(0.01).max(3_600).default(5),
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
    .optional(),
  AGENTBOX_RUN_RETENTION_DAYS: PositiveInt(3_650).default(30),
  AGENTBOX_RUN_RETENTION_MB: PositiveInt(100_000).default(100),
  /** Set by the launcher: its boot.json; without it the box has no slots and takes no updates. */
  AGENTBOX_BOOT_STATE: z.string().min(1).optional(),
  /** Set by the launcher: the slot this process runs from. */
  AGENTBOX_SLOT: z.enum(['a', 'b']).optional(),
  /** Set by the launcher to 1 when this process is a new version on probation. */
  AGENTBOX_BOOT_PENDING: z.enum(['0', '1']).default('0'),
  /** Set by the launcher for a version on probation: epoch ms by which it must have committed. */
  AGENTBOX_BOOT_DEADLINE: z.string().optional(),
  /** Set by systemd (Type=notify): where READY=1, STATUS= and WATCHDOG=1 go. */
  NOTIFY_SOCKET: z.string().optional(),
  /** Set by systemd (WatchdogSec=): the watchdog period, and the process it applies to. */
  WATCHDOG_USEC: z.string().optional(),
  WATCHDOG_PID: z.string().optional(),
  /** Free disk kept beyond what an update needs (download plus unpacked bundle). */
  AGENTBOX_OTA_DISK_RESERVE_MB: z.coerce.number().int().min(0).max(1_000_000).default(64),
  AGENTBOX_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type BoxEnv = z.infer<typeof BoxEnvSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The agents' webhook port unless AGENTBOX_WEBHOOK_PORT says otherwise (docs/operations.md). */
export const DEFAULT_WEBHOOK_PORT = 7450;

/** Validated configuration every module injects (`constructor(private readonly config: BoxConfig)`). */
export class BoxConfig {
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
  readonly logLevel: BoxEnv['AGENTBOX_LOG_LEVEL'];
  /** 0: no webhook. */
  readonly webhookPort: number;
  /** AGENTBOX_WEBHOOK_PORT was set: a taken port is an error, not a reason to take another. */
  readonly webhookPortExplicit: boolean;
  readonly runRetentionDays: number;
  readonly runRetentionBytes: number;
  readonly bootStatePath: string | undefined;
  readonly slot: 'a' | 'b' | undefined;
  readonly bootPending: boolean;
  readonly otaDiskReserveBytes: number;
  /** Epoch ms by which a version on probation must commit; undefined when none is set (or it is invalid). */
  readonly bootDeadline: number | undefined;
  /** systemd's notify socket; undefined when not started by systemd with Type=notify. */
  readonly notifySocket: string | undefined;
  /** How often to feed systemd's watchdog (half its period); undefined when none applies to this process. */
  readonly watchdogIntervalMs: number | undefined;

  constructor(env: BoxEnv) {
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
    this.webhookPort = env.AGENTBOX_WEBHOOK_PORT ?? DEFAULT_WEBHOOK_PORT;
    this.webhookPortExplicit = env.AGENTBOX_WEBHOOK_PORT !== undefined;
    this.runRetentionDays = env.AGENTBOX_RUN_RETENTION_DAYS;
    this.runRetentionBytes = env.AGENTBOX_RUN_RETENTION_MB * 1024 * 1024;
    this.bootStatePath = env.AGENTBOX_BOOT_STATE ? resolve(env.AGENTBOX_BOOT_STATE) : undefined;
    this.slot = env.AGENTBOX_SLOT;
    this.bootPending = env.AGENTBOX_BOOT_PENDING === '1';
    this.otaDiskReserveBytes = env.AGENTBOX_OTA_DISK_RESERVE_MB * 1024 * 1024;
    const deadline = Number(env.AGENTBOX_BOOT_DEADLINE);
    this.bootDeadline = Number.isFinite(deadline) && deadline > 0 ? deadline : undefined;
    this.notifySocket = env.NOTIFY_SOCKET;
    this.watchdogIntervalMs = watchdogIntervalMs(env);
  }

  /** Parses the environment; throws a ConfigError naming every bad variable. Empty values count as unset. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): BoxConfig {
    const cleaned = Object.fromEntries(
      Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
    );
    const parsed = BoxEnvSchema.safeParse(cleaned);
    if (!parsed.success) {
      const lines = parsed.error.issues.map(
        (issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`,
      );
      throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
    }
    return new BoxConfig(parsed.data);
  }
}
