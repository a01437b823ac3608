// Connect benchmark: N simulated boxes (real MQTT 5 clients, each subscribing to its own down/ and
// publishing its retained `online` status on every connect, as the device agent does) against a real
// fleet-service process (embedded broker, on SQLite and on PostgreSQL). Prints first connects per second, the service's memory
// per connected box, and how long after a kill -9 of the service every box is back; in the same run, the
// same clients against a bare Mosquitto (no authentication, no service) killed and restarted the same way.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '@agentbox/test-support';
import { FleetApi } from '../support/api.js';
import { startBareBroker } from '../support/bare-broker.js';
import { closeAll, connectAll, type ConnectedFleet, provisionBoxes } from '../support/fleet-boxes.js';
import { PrivateDatabase } from '../support/postgres-database.js';
import { startFleet, type FleetProcess } from '../support/processes.js';
import { loadNow, machine, runBench } from '../support/bench-run.js';

const BOXES = Number(process.env.BENCH_CONNECT_BOXES ?? 10_000);
/** Connections opened at once on the first connect; the rest wait their turn. */
const IN_FLIGHT = Number(process.env.BENCH_CONNECT_IN_FLIGHT ?? 200);
const PROVISION_CONCURRENCY = 8;
const RECOVERY_TIMEOUT_MS = 10 * 60_000;

interface Credentials {
  deviceId: string;
  password: string;
}

type Fleet = ConnectedFleet;

/** Time until every box is connected again, with the count every 10 s so a stall shows. */
async function recovery(fleet: Fleet, since: number): Promise<number> {
  let lastReport = performance.now();
  await waitFor(
    'every box connected again',
    () => {
      const connected = fleet.connected();
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`    ${connected}/${BOXES} back after ${((lastReport - since) / 1000).toFixed(0)} s`);
      }
      return connected === BOXES;
    },
    { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 100 },
  );
  return performance.now() - since;
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0);
}

async function provision(api: FleetApi): Promise<Credentials[]> {
  const claimToken = await api.createClaimToken({ maxUses: BOXES, ttlHours: 2 });
  const enrolled = await provisionBoxes(api.baseUrl, claimToken, BOXES, {
    prefix: 'bench-connect',
    concurrency: PROVISION_CONCURRENCY,
  });
  return enrolled.map(({ deviceId, mqtt }) => ({ deviceId, password: mqtt.password }));
}

interface Figures {
  firstConnectMs: number;
  recoveryMs: number;
  readyMs?: number;
  perBoxKiB?: number;
}

async function fleetRun(dataDir: string, databaseUrl?: string): Promise<Figures> {
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const env: Record<string, string> = { AGENTBOX_LOG_LEVEL: 'warn' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const options = { dataDir, httpPort, mqttPort, env };
  let fleet: FleetProcess = await startFleet(options);
  const api = new FleetApi(fleet.url);
  await api.login('admin', fleet.adminPassword);
  const provisionStarted = performance.now();
  const credentials = await provision(api);
  console.log(
    `  provisioned ${BOXES} boxes in ${((performance.now() - provisionStarted) / 1000).toFixed(1)} s`,
  );

  const rssBefore = rssKiB(fleet.child.pid!);
  const started = performance.now();
  const boxes = await connectAll(`mqtt://127.0.0.1:${mqttPort}`, credentials, IN_FLIGHT);
  const firstConnectMs = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const perBoxKiB = (rssKiB(fleet.child.pid!) - rssBefore) / BOXES;

  await fleet.kill('SIGKILL');
  const restartedAt = performance.now();
  fleet = await startFleet(options);
  const readyMs = performance.now() - restartedAt;
  const recoveryMs = await recovery(boxes, restartedAt);
  await closeAll(boxes);
  await fleet.kill('SIGTERM');
  return { firstConnectMs, recoveryMs, readyMs, perBoxKiB };
}

async function bareRun(dir: string): Promise<Figures> {
  const port = await freePort();
  let broker = await startBareBroker(dir, port);
  const credentials = Array.from({ length: BOXES }, (_, i) => ({
    deviceId: `bare-${i}-${randomBytes(4).toString('hex')}`,
    password: 'unused',
  }));
  const started = performance.now();
  const boxes = await connectAll(`mqtt://127.0.0.1:${port}`, credentials, IN_FLIGHT);
  const firstConnectMs = performance.now() - started;
  broker.kill('SIGKILL');
  await new Promise((resolve) => broker.once('exit', resolve));
  const restartedAt = performance.now();
  broker = await startBareBroker(dir, port);
  const recoveryMs = await recovery(boxes, restartedAt);
  await closeAll(boxes);
  broker.kill('SIGTERM');
  return { firstConnectMs, recoveryMs };
}

const rate = (ms: number) => Math.round(BOXES / (ms / 1000));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(dir: string): Promise<void> {
  console.log(`connect benchmark: ${BOXES} boxes, ${IN_FLIGHT} connects in flight; ${machine()}`);
  console.log('bare Mosquitto');
  const bare = await bareRun(dir);
  const runs: Array<[string, Figures]> = [];
  console.log('fleet service (embedded broker + SQLite)');
  runs.push(['embedded broker + SQLite', await fleetRun(join(dir, 'sqlite'))]);
  console.log('fleet service (embedded broker + PostgreSQL)');
  const database = await PrivateDatabase.create('agentbox_bench_connect');
  try {
    runs.push(['embedded broker + PostgreSQL', await fleetRun(join(dir, 'postgres'), database.url)]);
  } finally {
    await database.drop();
  }
  console.log('');
  console.log(
    `| ${BOXES} boxes | first connects | share of bare | all back after kill -9 | share of bare | ready after | memory per box |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    `| bare Mosquitto | ${rate(bare.firstConnectMs)}/s | 1 | ${seconds(bare.recoveryMs)} | 1 | | |`,
  );
  for (const [name, fleet] of runs)
    console.log(
      `| ${name} | ${rate(fleet.firstConnectMs)}/s | ${(bare.firstConnectMs / fleet.firstConnectMs).toFixed(2)} | ` +
        `${seconds(fleet.recoveryMs)} | ${(bare.recoveryMs / fleet.recoveryMs).toFixed(2)} | ` +
        `${seconds(fleet.readyMs!)} | ${fleet.perBoxKiB!.toFixed(1)} KiB |`,
    );
  console.log(`load average at the end ${loadNow()}`);
}

runBench('connect', main);
