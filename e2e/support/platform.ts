import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvisionResponseSchema, type ProvisionResponse } from '@agentbox/schemas';
import { FleetApi } from './api.js';
import { startAgent, startFleet, type FleetProcess, type ManagedProcess } from './processes.js';
import { waitFor } from '@agentbox/test-support';

/** The agent's `<stateDir>/credentials.json`: what provisioning returned, plus enrolment details. */
export function readCredentials(stateDir: string): ProvisionResponse {
  return ProvisionResponseSchema.parse(JSON.parse(readFileSync(join(stateDir, 'credentials.json'), 'utf8')));
}

/** A running platform in a temp dir: one fleet-service process, any number of device-agent processes. */
export class Platform {
  readonly root = mkdtempSync(join(tmpdir(), 'agentbox-e2e-'));
  fleet!: FleetProcess;
  api!: FleetApi;
  private readonly agents = new Map<string, ManagedProcess>();

  constructor(
    private readonly fleetEnv: Record<string, string> = {},
    private readonly options: { fleetLogFile?: string } = {},
  ) {}

  get dataDir(): string {
    return join(this.root, 'fleet');
  }

  async start(ports?: { httpPort: number; mqttPort: number }): Promise<void> {
    this.fleet = await startFleet({
      dataDir: this.dataDir,
      env: this.fleetEnv,
      ...(this.options.fleetLogFile ? { logFile: this.options.fleetLogFile } : {}),
      ...ports,
    });
    this.api = new FleetApi(this.fleet.url);
    await this.api.login('admin', this.fleet.adminPassword);
  }

  /** Stops the fleet service (SIGTERM, or SIGKILL to simulate a crash) and starts it again on the same ports and data. */
  async restartFleet(signal: NodeJS.Signals = 'SIGTERM', downtimeMs = 0): Promise<void> {
    await this.fleet.kill(signal);
    if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
    await this.start({ httpPort: this.fleet.httpPort, mqttPort: this.fleet.mqttPort });
  }

  stateDir(name: string): string {
    return join(this.root, name);
  }

  startAgent(name: string, claimToken?: string, env: Record<string, string> = {}): ManagedProcess {
    const agent = startAgent({
      stateDir: this.stateDir(name),
      fleetUrl: this.fleet.url,
      claimToken,
      name,
      env,
    });
    this.agents.set(name, agent);
    return agent;
  }

  /** The last agent process started under `name`. */
  agent(name: string): ManagedProcess {
    const agent = this.agents.get(name);
    if (!agent) throw new Error(`no agent named ${name}`);
    return agent;
  }

  async waitForDevice(
    predicate: (device: Awaited<ReturnType<FleetApi['devices']>>[number]) => boolean,
    what: string,
  ) {
    return waitFor(what, async () => (await this.api.devices()).find(predicate), { timeoutMs: 30_000 });
  }

  /** Stops every process; the root dir (logs, data) is removed unless `keep` or AGENTBOX_E2E_KEEP is set. */
  async stop({ keep = false }: { keep?: boolean } = {}): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.kill('SIGTERM')));
    await this.fleet?.kill('SIGTERM');
    if (keep) console.error(`platform root kept: ${this.root}`);
    else if (!process.env.AGENTBOX_E2E_KEEP) rmSync(this.root, { recursive: true, force: true });
  }
}
