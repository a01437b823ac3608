// Fan-out benchmark: N simulated boxes (real MQTT 5 clients, each subscribed to its own down/ as the device
// agent is) connected to a real fleet-service process (embedded broker, on SQLite and on PostgreSQL); an agent is assigned to
// every box and the clock runs from the POST until every box holds a desired document with the agent.
// Baseline in the same run: the same clients on a bare Mosquitto, and one client publishing one retained
// desired document to each of them, pipelined, until every box has it. Prints both and their ratio.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { encodeMessage, SCHEMA_VERSION, topics } from '@agentbox/schemas';
import { freePort, type SimulatedBox, waitFor } from '@agentbox/test-support';
import { FleetApi } from '../support/api.js';
import { startBareBroker } from '../support/bare-broker.js';
import { closeAll, connectAll, provisionBoxes } from '../support/fleet-boxes.js';
import { PrivateDatabase } from '../support/postgres-database.js';
import { startFleet } from '../support/processes.js';
import { loadNow, machine, runBench } from '../support/bench-run.js';

const BOXES = Number(process.env.BENCH_FANOUT_BOXES ?? 10_000);
const IN_FLIGHT = 200;
const PROVISION_CONCURRENCY = 8;
const DELIVERY_TIMEOUT_MS = 10 * 60_000;
/** A directory to write the fleet service's CPU profile into (node --cpu-prof). */
const PROFILE_DIR = process.env.BENCH_FANOUT_PROFILE_DIR;
/** `fleet` skips the bare-broker baseline (while profiling). */
const ONLY = process.env.BENCH_FANOUT_ONLY;
const ENGINES = (process.env.BENCH_FANOUT_ENGINES ?? 'sqlite,postgres').split(',');

/** Time since `since` until `has` holds for every box, with the count every 5 s so a stall shows. */
async function everyBox(boxes: SimulatedBox[], has: (box: SimulatedBox) => boolean, since: number) {
  let lastReport = performance.now();
  await waitFor(
    'every box has the document',
    () => {
      const count = boxes.filter(has).length;
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        console.log(`    ${count}/${boxes.length} after ${((lastReport - since) / 1000).toFixed(0)} s`);
      }
      return count === boxes.length;
    },
    { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 20 },
  );
  return performance.now() - since;
}

/** One retained QoS 1 document to each box's `down/desired` from one client, all publishes in flight. */
async function bareRun(dir: string): Promise<number> {
  const port = await freePort();
  const broker = await startBareBroker(dir, port);
  try {
    const url = `mqtt://127.0.0.1:${port}`;
    const credentials = Array.from({ length: BOXES }, (_, i) => ({
      deviceId: `bare-${i}-${randomBytes(4).toString('hex')}`,
      password: 'unused',
    }));
    const fleet = await connectAll(url, credentials, IN_FLIGHT);
    const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bench-publisher' });
    const payload = encodeMessage({ v: SCHEMA_VERSION, version: 1, ts: Date.now(), spec: { bench: true } });
    const started = performance.now();
    await Promise.all(
      credentials.map(({ deviceId }) =>
        publisher.publishAsync(topics.desired(deviceId), payload, { qos: 1, retain: true }),
      ),
    );
    const ms = await everyBox(fleet.boxes, (box) => box.desired.some((d) => d.version === 1), started);
    await publisher.endAsync();
    await closeAll(fleet);
    return ms;
  } finally {
    broker.kill('SIGTERM');
  }
}

interface FleetFigures {
  answeredMs: number;
  everyBoxMs: number;
  jobDoneMs: number;
}

async function fleetRun(dataDir: string, databaseUrl?: string): Promise<FleetFigures> {
  const mqttPort = await freePort();
  const execArgv = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const env: Record<string, string> = { AGENTBOX_LOG_LEVEL: 'warn' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const fleet = await startFleet({ dataDir, mqttPort, execArgv, env });
  try {
    const api = new FleetApi(fleet.url);
    await api.login('admin', fleet.adminPassword);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await api.request(method, path, body);
      if (response.status >= 300)
        throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
      return response;
    };
    const claimToken = await api.createClaimToken({ maxUses: BOXES, ttlHours: 2 });
    const provisionStarted = performance.now();
    const enrolled = await provisionBoxes(api.baseUrl, claimToken, BOXES, {
      prefix: 'bench-fanout',
      concurrency: PROVISION_CONCURRENCY,
    });
    console.log(
      `  provisioned ${BOXES} boxes in ${((performance.now() - provisionStarted) / 1000).toFixed(1)} s`,
    );
    const connectStarted = performance.now();
    const boxes = await connectAll(
      `mqtt://127.0.0.1:${mqttPort}`,
      enrolled.map(({ deviceId, mqtt: credentials }) => ({ deviceId, password: credentials.password })),
      IN_FLIGHT,
    );
    console.log(
      `  connected ${BOXES} boxes in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`,
    );
    await call('POST', '/api/v1/providers', {
      id: 'bench',
      name: 'Bench model',
      baseUrl: 'http://127.0.0.1:9/v1',
    });
    await call('POST', '/api/v1/agents', {
      id: 'fanout',
      definition: {
        name: 'fanout',
        instructions: 'Answer in one word.',
        model: { provider: 'bench', model: 'test-model' },
        triggers: [{ type: 'message' }],
      },
    });
    // Every box has its version 0 document (published when it came online) before the clock starts.
    await everyBox(boxes.boxes, (box) => box.desired.length > 0, performance.now());

    const started = performance.now();
    const accepted = await call('POST', '/api/v1/assignments', {
      agentId: 'fanout',
      target: { type: 'all' },
    });
    const answeredMs = performance.now() - started;
    if (accepted.status !== 202) throw new Error(`expected 202, got ${accepted.status}`);
    const jobId = (accepted.body as { job: { id: string } }).job.id;
    let jobDoneMs = Number.NaN;
    const followJob = waitFor(
      'the assignment job done',
      async () => {
        const job = (await call('GET', `/api/v1/assignment-jobs/${jobId}`)).body as {
          state: string;
          done: number;
          failed: number;
        };
        if (job.state === 'running') return undefined;
        jobDoneMs = performance.now() - started;
        return job;
      },
      { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 100 },
    );
    const everyBoxMs = await everyBox(
      boxes.boxes,
      (box) => box.desired.at(-1)?.spec.agents?.some((agent) => agent.id === 'fanout') ?? false,
      started,
    );
    const job = await followJob;
    console.log(`  job ${JSON.stringify(job)}`);
    await closeAll(boxes);
    return { answeredMs, everyBoxMs, jobDoneMs };
  } finally {
    await fleet.kill('SIGTERM');
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(dir: string): Promise<void> {
  console.log(`fan-out benchmark: ${BOXES} boxes; ${machine()}`);
  if (ONLY !== 'fleet') console.log('bare Mosquitto');
  const bareMs = ONLY === 'fleet' ? Number.NaN : await bareRun(dir);
  const runs: Array<[string, FleetFigures]> = [];
  if (ENGINES.includes('sqlite')) {
    console.log('fleet service (embedded broker + SQLite)');
    runs.push(['embedded broker + SQLite', await fleetRun(join(dir, 'sqlite'))]);
  }
  if (ENGINES.includes('postgres')) {
    console.log('fleet service (embedded broker + PostgreSQL)');
    const database = await PrivateDatabase.create('agentbox_bench_fanout');
    try {
      runs.push(['embedded broker + PostgreSQL', await fleetRun(join(dir, 'postgres'), database.url)]);
    } finally {
      await database.drop();
    }
  }
  console.log('');
  console.log(`| ${BOXES} boxes | POST answered | job done | every box has it | share of bare |`);
  console.log('| --- | --- | --- | --- | --- |');
  console.log(`| bare Mosquitto, one publish per box | | | ${seconds(bareMs)} | 1 |`);
  for (const [name, fleet] of runs) {
    console.log(
      `| ${name}, assign to every box | ${seconds(fleet.answeredMs)} | ` +
        `${seconds(fleet.jobDoneMs)} | ${seconds(fleet.everyBoxMs)} | ${(bareMs / fleet.everyBoxMs).toFixed(2)} |`,
    );
  }
  console.log(
    `ratio fleet / bare: ${runs.map(([name, fleet]) => `${name} ${(fleet.everyBoxMs / bareMs).toFixed(2)}`).join(', ')}; ` +
      `load average at the end ${loadNow()}`,
  );
}

runBench('fanout', main);
