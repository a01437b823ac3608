import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export interface PrivateMosquitto {
  url: string;
  port: number;
  adminUser: string;
  adminPassword: string;
  /** Stops the broker process, waits `downtimeMs`, and starts it again on the same port and config. */
  restart(downtimeMs: number): Promise<void>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A private Mosquitto with the dynamic-security plugin on a free port, in a temp dir, never the
 * machine's own broker. The admin client gets the rights the fleet service needs.
 */
export async function startMosquitto(): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-mosquitto-'));
  const port = await freePort();
  const adminUser = 'fleet-admin';
  const adminPassword = randomBytes(12).toString('hex');
  const dynsecFile = join(dir, 'dynamic-security.json');
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', dynsecFile, adminUser, adminPassword], {
    stdio: 'ignore',
  });
  const config = [
    // Started as root, Mosquitto would drop to its own user, which cannot read this private temp dir.
    'user root',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    // Sessions survive a restart (as in production), so QoS 1 messages queued for an absent subscriber are kept.
    'persistence true',
    `persistence_location ${dir}/`,
    `plugin ${DYNSEC_PLUGIN}`,
    `plugin_opt_config_file ${dynsecFile}`,
    'max_packet_size 1048576',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'mosquitto.conf'), config);
  const launch = async () => {
    const child = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitFor(`mosquitto on port ${port}`, () => portOpen(port));
    return {
      async stop() {
        child.kill('SIGTERM');
        await exited;
      },
    };
  };
  let running = await launch();
  const ctrl = (...args: string[]) =>
    execFileSync(
      'mosquitto_ctrl',
      ['-h', '127.0.0.1', '-p', String(port), '-u', adminUser, '-P', adminPassword, 'dynsec', ...args],
      {
        stdio: 'ignore',
      },
    );
  // The fleet service reads every box's up/ (through a shared subscription) and writes their down/.
  ctrl('addRoleACL', 'admin', 'subscribePattern', 'agentbox/v1/devices/+/up/#', 'allow');
  ctrl('addRoleACL', 'admin', 'publishClientReceive', 'agentbox/v1/devices/+/up/#', 'allow');
  ctrl('addRoleACL', 'admin', 'publishClientSend', 'agentbox/v1/devices/+/down/#', 'allow');
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    adminUser,
    adminPassword,
    async restart(downtimeMs: number) {
      await running.stop();
      await new Promise((resolve) => setTimeout(resolve, downtimeMs));
      running = await launch();
    },
    async stop() {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
