import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, platform, totalmem } from 'node:os';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  BirthMessageSchema,
  MetricNameSchema,
  SCHEMA_VERSION,
  type BirthMessage,
  type BoxCapability,
  type HardwareInfo,
} from '@agentbox/schemas';
import { BoxConfig } from '../../config/box-config.js';
import { BoxSecretsKeyService } from '../agents/secrets/box-secrets-key.service.js';
import { DEVICE_AGENT_VERSION } from '../runtime/device-agent-version.js';
import { METRICS_COLLECTOR, type MetricsCollector } from '../runtime/metrics-collector.js';
import { RuntimeSettingsService } from '../runtime/runtime-settings.service.js';

/** Every box reports these; `ota` only one installed with slots (the launcher's boot state). */
const ALWAYS: readonly BoxCapability[] = ['telemetry', 'desired-state', 'commands'];

/** PRETTY_NAME from os-release(5), e.g. "Debian GNU/Linux 12 (bookworm)". */
export async function readOsRelease(
  paths = ['/etc/os-release', '/usr/lib/os-release'],
): Promise<string | undefined> {
  for (const path of paths) {
    try {
      const text = await readFile(path, 'utf8');
      const line = text.split('\n').find((entry) => entry.startsWith('PRETTY_NAME='));
      if (line)
        return line
          .slice('PRETTY_NAME='.length)
          .trim()
          .replace(/^["']|["']$/g, '')
          .slice(0, 255);
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** Builds `up/birth`: who the device is, what the box is and what it can report. */
@Injectable()
export class BirthService {
  private readonly logger = new Logger(BirthService.name);
  /** Random per process, so the cloud can tell a restart from a reconnect. */
  readonly bootId = randomUUID();

  constructor(
    @Inject(METRICS_COLLECTOR) private readonly collector: MetricsCollector,
    private readonly runtime: RuntimeSettingsService,
    @Optional() private readonly secrets?: BoxSecretsKeyService,
    @Optional() private readonly config?: BoxConfig,
  ) {}

  capabilities(): BoxCapability[] {
    return this.config?.bootStatePath ? [...ALWAYS, 'ota'] : [...ALWAYS];
  }

  async hardware(): Promise<HardwareInfo> {
    const cpuList = cpus();
    return {
      hostname: hostname().slice(0, 255),
      platform: platform(),
      arch: arch(),
      osRelease: await readOsRelease(),
      cpuModel: cpuList[0]?.model.trim().slice(0, 255) || undefined,
      cpuCores: Math.max(cpuList.length, 1),
      memTotalBytes: totalmem(),
    };
  }

  async build(seq: number): Promise<BirthMessage> {
    let metrics: string[] = [];
    try {
      metrics = (await this.collector.availableMetrics()).filter(
        (name) => MetricNameSchema.safeParse(name).success,
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot list the available metrics');
    }
    return BirthMessageSchema.parse({
      v: SCHEMA_VERSION,
      seq,
      ts: Date.now(),
      agentVersion: DEVICE_AGENT_VERSION,
      bootId: this.bootId,
      hardware: await this.hardware(),
      capabilities: this.capabilities(),
      metrics: metrics.slice(0, 500),
      telemetryIntervalSec: this.runtime.telemetryIntervalSec,
      // The cloud seals provider API keys to this key (docs/protocol.md section 11).
      secretsKey: this.secrets?.publicKey,
    });
  }
}
