import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Debian's Mosquitto ships the plugin in the multiarch library directory. */
export const DYNSEC_PLUGIN =
  ['x86_64-linux-gnu', 'aarch64-linux-gnu']
    .map((arch) => `/usr/lib/${arch}/mosquitto_dynamic_security.so`)
    .find((path) => existsSync(path)) ?? '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
export const SERVICE_ROLE = 'agentbox-fleet-service';

export interface PrivateMosquitto {
  url: string;
  port: number;
  /** The fleet service's account: dynsec admin plus publish rights on every box's down/. */
  username: string;
  password: string;
  /** What the broker printed (stdout and stderr), for assertions and failure messages. */
  output(): string;
  /**
   * Stops the broker (SIGTERM, which saves its persistence; SIGKILL, a crash, which does not), waits
   * `downtimeMs`, and starts it again on the same port, config and persistence.
   */
  restart(downtimeMs: number, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /**
   * A production config to validate instead of the minimal one: its listener port, plugin file and
   * persistence location are rewritten to this run's free port and temp dir.
   */
  configFile?: string;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Rewrites a production config for a private run: own port on loopback, own files, logs to stdout. */
export function adaptConfig(text: string, port: number, dir: string, dynsecFile: string): string {
  const lines = text.split('\n').map((line) => {
    if (/^\s*listener\s+/.test(line)) return `listener ${port} 127.0.0.1`;
    if (/^\s*plugin_opt_config_file\s+/.test(line)) return `plugin_opt_config_file ${dynsecFile}`;
    if (/^\s*plugin\s+/.test(line)) return `plugin ${DYNSEC_PLUGIN}`;
    if (/^\s*persistence_location\s+/.test(line)) return `persistence_location ${dir}/`;
    if (/^\s*log_dest\s+/.test(line)) return 'log_dest stderr';
    if (/^\s*(pid_file|user)\s+/.test(line)) return '';
    return line;
  });
  // Mosquitto started as root drops to the `mosquitto` user, which cannot read this run's temp dir.
  return `user root\n${lines.join('\n')}\n`;
}

interface DynsecFile {
  clients: Array<{ username: string; roles: Array<{ rolename: string }> }>;
  roles: Array<{
    rolename: string;
    acls: Array<{ acltype: string; topic: string; priority: number; allow: boolean }>;
  }>;
}

/**
 * The admin role from `dynsec init` manages dynsec and reads everything but may not publish to boxes;
 * the service account also gets a role for that. Written into the file before the broker starts, because
 * changing a connected client's roles through the control topic disconnects that client.
 */
function grantServiceRole(dynsecFile: string, username: string): void {
  const state = JSON.parse(readFileSync(dynsecFile, 'utf8')) as DynsecFile;
  state.roles.push({
    rolename: SERVICE_ROLE,
    acls: [
      { acltype: 'publishClientSend', topic: 'agentbox/v1/devices/+/down/#', priority: 0, allow: true },
      { acltype: 'subscribePattern', topic: 'agentbox/v1/devices/+/up/#', priority: 0, allow: true },
    ],
  });
  const client = state.clients.find((entry) => entry.username === username);
  if (!client) throw new Error(`dynsec init did not create ${username}`);
  client.roles.push({ rolename: SERVICE_ROLE });
  writeFileSync(dynsecFile, JSON.stringify(state, null, 2));
}

/**
 * A PRIVATE Mosquitto 2.0 with the dynamic-security plugin, on a free loopback port and a temp dir of its
 * own: never the machine's broker on 1883. Killed by stop().
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-mosquitto-'));
  const port = await freePort();
  const username = 'fleet-service';
  const password = randomBytes(18).toString('base64url');
  const dynsecFile = join(dir, 'dynamic-security.json');
  await run('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, username, password]);
  grantServiceRole(dynsecFile, username);
  const config = options.configFile
    ? adaptConfig(readFileSync(options.configFile, 'utf8'), port, dir, dynsecFile)
    : [
        'user root',
        'per_listener_settings false',
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        // Sessions survive a restart, as in production: QoS 1 messages queued for an absent subscriber are kept.
        'persistence true',
        `persistence_location ${dir}/`,
        `plugin ${DYNSEC_PLUGIN}`,
        `plugin_opt_config_file ${dynsecFile}`,
        'max_packet_size 65536',
        'log_dest stderr',
        '',
      ].join('\n');
  const configPath = join(dir, 'mosquitto.conf');
  writeFileSync(configPath, config);

  let output = '';
  const launch = async () => {
    const child: ChildProcess = spawn('mosquitto', ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    const kill = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    };
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await kill();
        throw new Error(`mosquitto did not start on port ${port}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return kill;
  };

  let kill: (signal?: 'SIGTERM' | 'SIGKILL') => Promise<void>;
  try {
    kill = await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    username,
    password,
    output: () => output,
    async restart(downtimeMs: number, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') {
      await kill(signal);
      await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      kill = await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
