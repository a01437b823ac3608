import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@agentbox/test-support';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fleetMain = join(repoRoot, 'apps/fleet-service/dist/main.js');
const agentMain = join(repoRoot, 'apps/device-agent/dist/main.js');

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

function launch(
  script: string,
  env: Record<string, string>,
  logFile: string,
  execArgv: string[] = [],
): ManagedProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...execArgv, script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return {
    child,
    logFile,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface FleetProcess extends ManagedProcess {
  readonly url: string;
  readonly httpPort: number;
  readonly mqttPort: number;
  readonly adminPassword: string;
}

export interface FleetOptions {
  dataDir: string;
  httpPort?: number;
  mqttPort?: number;
  adminPassword?: string;
  env?: Record<string, string>;
  /** `<dataDir>/fleet.log` unless given (a test that fills the data dir's disk keeps its log elsewhere). */
  logFile?: string;
  /** Options of node itself, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  execArgv?: string[];
}

/** Starts the built fleet service as a real process and waits for /readyz. */
export async function startFleet(options: FleetOptions): Promise<FleetProcess> {
  const httpPort = options.httpPort ?? (await freePort());
  const mqttPort = options.mqttPort ?? (await freePort());
  const adminPassword = options.adminPassword ?? 'e2e-admin-password';
  const env: Record<string, string> = {
    AGENTBOX_DATA_DIR: options.dataDir,
    AGENTBOX_HTTP_PORT: String(httpPort),
    AGENTBOX_HTTP_HOST: '127.0.0.1',
    AGENTBOX_MQTT_PORT: String(mqttPort),
    AGENTBOX_MQTT_HOST: '127.0.0.1',
    AGENTBOX_ADMIN_PASSWORD: adminPassword,
    AGENTBOX_LOG_LEVEL: 'info',
    ...options.env,
  };
  const proc = launch(
    fleetMain,
    env,
    options.logFile ?? join(options.dataDir, 'fleet.log'),
    options.execArgv,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  await Promise.race([
    waitFor(
      `fleet service ready at ${url} (log: ${proc.logFile})`,
      async () => (await fetch(`${url}/readyz`)).ok,
      { timeoutMs: 60_000 },
    ),
    proc.exited.then((code) => {
      throw new Error(`fleet service exited (${code}) before it was ready; see ${proc.logFile}`);
    }),
  ]).catch(async (error: unknown) => {
    await proc.kill('SIGKILL');
    throw error;
  });
  return { ...proc, url, httpPort, mqttPort, adminPassword };
}

export interface AgentOptions {
  stateDir: string;
  fleetUrl: string;
  claimToken?: string;
  name?: string;
  env?: Record<string, string>;
}

/** Starts the built device agent as a real process. */
export function startAgent(options: AgentOptions): ManagedProcess {
  const env: Record<string, string> = {
    AGENTBOX_FLEET_URL: options.fleetUrl,
    AGENTBOX_STATE_DIR: options.stateDir,
    AGENTBOX_TELEMETRY_INTERVAL_SEC: '1',
    AGENTBOX_MQTT_KEEPALIVE_SEC: '2',
    AGENTBOX_LOG_LEVEL: 'info',
    ...(options.claimToken ? { AGENTBOX_CLAIM_TOKEN: options.claimToken } : {}),
    ...(options.name ? { AGENTBOX_DEVICE_NAME: options.name } : {}),
    ...options.env,
  };
  return launch(agentMain, env, join(options.stateDir, '..', `${options.stateDir.split('/').pop()}.log`));
}
