import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReleaseDto, RolloutCreateBody } from '@agentbox/schemas';
import type { ApiResponse } from './api.js';
import { installBox, LauncherBox, releaseCliRun } from './box.js';
import { Platform } from './platform.js';
import { repoRoot } from './processes.js';

/** The device agent's version in the checkout: the release the boxes are installed with. */
export const currentAgentVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'apps/device-agent/package.json'), 'utf8')) as { version: string }
).version;

export function bumpMinor(version: string, by: number): string {
  const [major, minor] = version.split('.').map(Number);
  return `${major}.${(minor ?? 0) + by}.0`;
}

/**
 * The over-the-air setup shared by the OTA suites: keys and a root made with the release CLI, releases built
 * with it, a fleet service that trusts that root, and real boxes under the launcher enrolled on one release.
 */
export class OtaSetup {
  readonly work: string;
  readonly platform: Platform;
  /** Filled as the boxes start, so a partial start is still stopped by `stop()`. */
  readonly boxes: LauncherBox[] = [];
  readonly deviceIds: string[] = [];

  constructor(prefix: string) {
    this.work = mkdtempSync(join(tmpdir(), prefix));
    this.platform = new Platform({ AGENTBOX_OTA_ROOT_FILE: this.rootFile, AGENTBOX_ROLLOUT_TICK_MS: '500' });
  }

  /** The root the boxes pin and the fleet service trusts. */
  get rootFile(): string {
    return join(this.work, 'root.json');
  }

  /** The release CLI's key pairs. */
  get keys(): string {
    return join(this.work, 'keys');
  }

  /** The bundles and manifests built. */
  private get releases(): string {
    return join(this.work, 'releases');
  }

  bundleOf(version: string): string {
    return join(this.releases, `agentbox-device-agent-${version}.tar.gz`);
  }

  manifestOf(version: string): string {
    return join(this.releases, `agentbox-device-agent-${version}.manifest.json`);
  }

  /** Keys, the root the boxes pin and the given releases, made the way a release manager makes them. */
  async buildReleases(versions: string[]): Promise<void> {
    mkdirSync(this.work, { recursive: true });
    await releaseCliRun(['keygen', '--out', this.keys, '--name', 'root']);
    await releaseCliRun(['keygen', '--out', this.keys, '--name', 'release']);
    await releaseCliRun([
      'root',
      'init',
      '--root-key',
      join(this.keys, 'root.pem'),
      '--release-key',
      join(this.keys, 'release.pub.json'),
      '--expires',
      '30d',
      '--out',
      this.rootFile,
    ]);
    for (const version of versions) {
      await releaseCliRun([
        'build',
        '--version',
        version,
        '--key',
        join(this.keys, 'release.pem'),
        '--root',
        this.rootFile,
        '--expires',
        '30d',
        '--out',
        this.releases,
      ]);
    }
  }

  /** Starts the platform and `count` boxes installed with `version`, and waits until each is online on it. */
  async startFleet(options: {
    count: number;
    version: string;
    deviceName: (i: number) => string;
    hardwareId: (i: number) => string;
  }): Promise<void> {
    const { count, version, deviceName, hardwareId } = options;
    await this.platform.start();
    const claimToken = await this.platform.api.createClaimToken({ ttlHours: 1, maxUses: count });
    for (let i = 0; i < count; i += 1) {
      const installed = installBox(join(this.work, `box-${i}`), this.bundleOf(version), this.rootFile);
      this.boxes.push(
        new LauncherBox(installed, {
          AGENTBOX_FLEET_URL: this.platform.fleet.url,
          AGENTBOX_CLAIM_TOKEN: claimToken,
          AGENTBOX_DEVICE_NAME: deviceName(i),
          AGENTBOX_HARDWARE_ID: hardwareId(i),
          AGENTBOX_MQTT_KEEPALIVE_SEC: '2',
          AGENTBOX_TELEMETRY_INTERVAL_SEC: '5',
          AGENTBOX_WEBHOOK_PORT: '0',
          AGENTBOX_LOG_LEVEL: 'info',
          AGENTBOX_LAUNCHER_BACKOFF_MS: '200',
          AGENTBOX_LAUNCHER_BACKOFF_MAX_MS: '1000',
          AGENTBOX_LAUNCHER_KILL_GRACE_MS: '5000',
        }).start(),
      );
    }
    for (let i = 0; i < count; i += 1) {
      const device = await this.platform.waitForDevice(
        (d) => d.name === deviceName(i) && d.online && d.agentVersion === version,
        `box ${i} enrolled and online on ${version}`,
      );
      this.deviceIds.push(device.id);
    }
  }

  /** Uploads a built release with `agentbox-release upload` and returns it as the releases list shows it. */
  async uploadRelease(version: string): Promise<ReleaseDto | undefined> {
    const { fleet, api } = this.platform;
    await releaseCliRun([
      'upload',
      '--url',
      fleet.url,
      '--token',
      api.accessToken,
      '--manifest',
      this.manifestOf(version),
      '--bundle',
      this.bundleOf(version),
    ]);
    const list = await api.request<ReleaseDto[]>('GET', '/api/v1/releases');
    return list.body.find((item) => item.version === version);
  }

  /**
   * Creates (does not start) a rollout of `releaseId` to every box: a one-box canary, then everyone,
   * advancing by itself with a 100% success threshold, under the given abort rule and per-box limits.
   */
  createCanaryRollout(
    releaseId: string,
    policy: {
      abort: { failurePct: number; minFinished: number };
      perBoxTimeoutSec: number;
      healthDeadlineSec: number;
    },
  ): Promise<ApiResponse<{ id: string }>> {
    const body: RolloutCreateBody = {
      releaseId,
      targets: { deviceIds: this.deviceIds },
      phases: [
        { name: 'canary', count: 1 },
        { name: 'everyone', percent: 100 },
      ],
      successThresholdPct: 100,
      autoAdvance: true,
      abort: policy.abort,
      perBoxTimeoutSec: policy.perBoxTimeoutSec,
      maxWaitSec: 0,
      healthDeadlineSec: policy.healthDeadlineSec,
    };
    return this.platform.api.request<{ id: string }>('POST', '/api/v1/rollouts', body);
  }

  async stopBoxes(): Promise<void> {
    await Promise.all(this.boxes.map((box) => box.stop()));
  }

  removeWork(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}
