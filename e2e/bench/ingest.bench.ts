// Ingest benchmark: N simulated boxes publish telemetry to a real fleet-service process, once on its
// defaults (embedded broker + SQLite) and once on production engines (Mosquitto + PostgreSQL), each with
// 1 and with 20 samples per message. Every figure comes with two baselines measured in the same run: the
// raw broker (the same publishers against a bare broker of the same kind, one bare subscriber) and the raw
// database (the same rows inserted in batches, no broker or validation in between).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import pg from 'pg';
import { topics, type TelemetrySample } from '@agentbox/schemas';
import {
  TEST_POSTGRES_URL,
  dropSchema,
  freePort,
  provisionBox,
  randomSchemaName,
  SimulatedBox,
  startMosquitto,
  waitFor,
} from '@agentbox/test-support';
import { FleetApi } from '../support/api.js';
import { repoRoot, startFleet } from '../support/processes.js';
import { productionEnv } from '../support/stacks.js';

const BOXES = Number(process.env.BENCH_BOXES ?? 50);
/** Messages per box with one sample each, and with BATCHED samples each. */
const MESSAGES_SINGLE = Number(process.env.BENCH_MESSAGES ?? 400);
const MESSAGES_BATCHED = Number(process.env.BENCH_MESSAGES_BATCHED ?? 100);
/** Samples per message of the batched workload. */
const BATCHED = 20;
const INFLIGHT = 20;
/** `sqlite`, `postgres` or both (default). */
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
/** `1`, `20` or both (default). */
const SIZES = (process.env.BENCH_SAMPLES ?? `1,${BATCHED}`).split(',').map(Number);
/** A directory to write the fleet service's CPU profiles into (node --cpu-prof). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

interface Workload {
  messagesPerBox: number;
  samplesPerMessage: number;
  /** Samples in all. */
  total: number;
}

/** One sample of the 12 metrics a box reports. */
function sample(seq: number, ts = Date.now()): TelemetrySample {
  return {
    ts,
    values: {
      'cpu.usage_pct': Math.random() * 100,
      'cpu.iowait_pct': Math.random(),
      'mem.total_bytes': 8e9,
      'mem.used_bytes': 4e9,
      'mem.used_pct': 50,
      'load.1m': 0.5,
      'load.5m': 0.4,
      'load.15m': 0.3,
      'disk.total_bytes': 1e11,
      'disk.used_bytes': 5e10,
      'disk.used_pct': 50,
      'uptime.seconds': 1000 + seq,
    },
  };
}

function samplesOf(seq: number, count: number): TelemetrySample[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => sample(seq, now - (count - 1 - i) * 1000));
}

interface Box {
  deviceId: string;
  url: string;
  username?: string;
  password: string;
}

/**
 * Connects the boxes and publishes the workload as QoS 1 messages from each with a bounded in-flight window.
 * Each message carries its spool position as the device agent's do, and each box subscribes to its
 * `down/stored`, so the service's per-box sequence-gap marks and storage confirmations are measured too
 * (docs/protocol.md, "Acknowledged means stored"); `seq` doubles as the spool record id.
 */
async function publishAll(boxes: Box[], work: Workload): Promise<void> {
  const simulated = await Promise.all(
    boxes.map((box) => SimulatedBox.connect({ ...box, mqtt: { connectTimeout: 30_000 } })),
  );
  await Promise.all(simulated.map((box) => box.subscribe([topics.stored(box.deviceId)])));
  await Promise.all(
    simulated.map(async (box) => {
      let sent = 0;
      const epoch = randomBytes(8).toString('hex');
      const worker = async () => {
        while (sent < work.messagesPerBox) {
          sent += 1;
          const seq = box.nextSeq();
          const spool = { epoch, first: seq, last: seq, acked: Math.max(0, seq - 1 - INFLIGHT), dropped: 0 };
          await box.publish('telemetry', { samples: samplesOf(seq, work.samplesPerMessage), spool }, { seq });
        }
      };
      await Promise.all(Array.from({ length: INFLIGHT }, worker));
    }),
  );
  await Promise.all(simulated.map((box) => box.close()));
}

interface BareBroker {
  url: string;
  close(): Promise<void>;
}

async function bareAedes(): Promise<BareBroker> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      server.close();
    },
  };
}

/** A bare Mosquitto: anonymous, no plugin, no persistence, the in-flight window of the shipped config. */
async function bareMosquitto(dir: string): Promise<BareBroker> {
  const port = await freePort();
  const config = join(dir, 'bare-mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'max_queued_messages 0',
      'max_inflight_messages 20',
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', config], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  await waitFor('bare mosquitto listening', async () => {
    const probe = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 1_000 });
    try {
      await new Promise((resolve, reject) => {
        probe.once('connect', resolve);
        probe.once('error', reject);
        probe.once('close', () => reject(new Error('closed')));
      });
      return true;
    } catch {
      return false;
    } finally {
      probe.end(true);
    }
  });
  return {
    url,
    async close() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function rawBroker(broker: BareBroker, work: Workload): Promise<number> {
  let received = 0;
  const subscriber = mqtt.connect(broker.url, {
    protocolVersion: 5,
    clientId: `bare-subscriber-${randomBytes(4).toString('hex')}`,
  });
  await new Promise((resolve) => subscriber.once('connect', resolve));
  await subscriber.subscribeAsync(topics.allUpFilter(), { qos: 1 });
  subscriber.on('message', () => received++);
  const boxes = Array.from({ length: BOXES }, (_, i) => ({
    deviceId: `raw-${i}-${randomBytes(3).toString('hex')}`,
    url: broker.url,
    password: 'unused',
  }));
  const messages = BOXES * work.messagesPerBox;
  const started = performance.now();
  await publishAll(boxes, work);
  await waitFor('bare subscriber received everything', () => received >= messages, {
    timeoutMs: 300_000,
    intervalMs: 5,
  });
  const seconds = (performance.now() - started) / 1000;
  await subscriber.endAsync();
  await broker.close();
  return work.total / seconds;
}

type Row = [string, number, number, number, string];

/** The rows of the workload as a box would send them, one batch per box (ingest flushes about as many). */
function* rowBatches(work: Workload): Generator<Row[]> {
  for (let box = 0; box < BOXES; box++) {
    const rows: Row[] = [];
    for (let seq = 1; seq <= work.messagesPerBox; seq++) {
      samplesOf(seq, work.samplesPerMessage).forEach((s, idx) => {
        rows.push([`box-${box}`, seq, idx, s.ts, JSON.stringify(s.values)]);
      });
    }
    for (let i = 0; i < rows.length; i += 1_000) yield rows.slice(i, i + 1_000);
  }
}

function rawSqlite(dir: string, work: Workload): number {
  const file = join(dir, `raw-${work.samplesPerMessage}.sqlite`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE samples (device_id TEXT, seq INTEGER, idx INTEGER, ts INTEGER, "values" TEXT, PRIMARY KEY (device_id, seq, idx))',
  );
  const insert = db.prepare('INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?)');
  const batch = db.transaction((rows: Row[]) => {
    for (const row of rows) insert.run(...row);
  });
  const started = performance.now();
  for (const rows of rowBatches(work)) batch(rows);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  rmSync(file, { force: true });
  return work.total / seconds;
}

/**
 * The same rows into a table of the same shape, one INSERT per batch of 1,000, one client: the fastest
 * single statement found for it (a JSON array read by `json_to_recordset` with `text` and `json` fields,
 * about twice `unnest` over `varchar[]` and `jsonb[]` here), so the ratio is to what PostgreSQL can take.
 */
async function rawPostgres(work: Workload): Promise<number> {
  const schema = randomSchemaName('agentbox_bench_raw');
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.query(
      `CREATE TABLE "${schema}".samples (device_id varchar(64), seq bigint, idx integer, ts bigint, "values" jsonb, PRIMARY KEY (device_id, ts, seq, idx))`,
    );
    const started = performance.now();
    for (const rows of rowBatches(work)) {
      // `values` is JSON text already: spliced in, not encoded a second time as a string.
      const records = rows.map(
        ([deviceId, seq, idx, ts, values]) =>
          `{"deviceId":${JSON.stringify(deviceId)},"seq":${seq},"idx":${idx},"ts":${ts},"values":${values}}`,
      );
      await client.query(
        `INSERT INTO "${schema}".samples SELECT "deviceId", seq, idx, ts, "values"
         FROM json_to_recordset($1::json) AS r("deviceId" text, seq bigint, idx integer, ts bigint, "values" json)
         ON CONFLICT DO NOTHING`,
        [`[${records.join(',')}]`],
      );
    }
    return work.total / ((performance.now() - started) / 1000);
  } finally {
    await client.end();
    await dropSchema(schema);
  }
}

interface Engine {
  name: string;
  brokerName: string;
  databaseName: string;
  bareBroker(dir: string): Promise<BareBroker>;
  rawDatabase(dir: string, work: Workload): Promise<number>;
  /** Environment of the fleet service and a way to count stored samples. */
  fleet(dir: string): Promise<{
    env: Record<string, string>;
    count(): Promise<number>;
    /** The end of the broker's log, for a failure. */
    log?(): string;
    teardown(): Promise<void>;
  }>;
}

const engines: Record<string, Engine> = {
  sqlite: {
    name: 'embedded broker + SQLite',
    brokerName: 'bare Aedes',
    databaseName: 'SQLite (better-sqlite3)',
    bareBroker: () => bareAedes(),
    rawDatabase: (dir, work) => Promise.resolve(rawSqlite(dir, work)),
    fleet(dir) {
      let db: Database.Database | undefined;
      return Promise.resolve({
        env: {},
        count() {
          db ??= new Database(join(dir, 'fleet.sqlite'), { readonly: true, fileMustExist: true });
          const row = db.prepare('SELECT count(*) AS n FROM telemetry_samples').get() as { n: number };
          return Promise.resolve(row.n);
        },
        teardown() {
          db?.close();
          return Promise.resolve();
        },
      });
    },
  },
  postgres: {
    name: 'Mosquitto (dynamic security) + PostgreSQL',
    brokerName: 'bare Mosquitto',
    databaseName: 'PostgreSQL (json_to_recordset insert)',
    bareBroker: (dir) => bareMosquitto(dir),
    rawDatabase: (_dir, work) => rawPostgres(work),
    async fleet(dir) {
      // The shipped configuration: its session queue never drops what the broker acknowledged to a box.
      const configFile = join(dir, 'mosquitto.conf');
      writeFileSync(configFile, readFileSync(join(repoRoot, 'infra/mosquitto/mosquitto.conf'), 'utf8'));
      const broker = await startMosquitto({ configFile });
      const schema = randomSchemaName('agentbox_bench');
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      return {
        env: { ...productionEnv(broker, schema), AGENTBOX_REPLICA_ID: 'bench' },
        async count() {
          const result = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM "${schema}".telemetry_samples`,
          );
          return Number(result.rows[0]?.n ?? 0);
        },
        log: () => broker.output().slice(-3_000),
        async teardown() {
          await client.end();
          await broker.stop();
          await dropSchema(schema);
        },
      };
    },
  },
};

async function endToEnd(engine: Engine, dir: string, work: Workload): Promise<number> {
  const dataDir = join(dir, `fleet-${randomBytes(3).toString('hex')}`);
  mkdirSync(dataDir);
  const setup = await engine.fleet(dataDir);
  // The ingest settings (AGENTBOX_INGEST_*) given to the benchmark reach the service, to compare them.
  const ingest = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('AGENTBOX_INGEST_') && entry[1] !== undefined,
  );
  const env: Record<string, string> = {
    AGENTBOX_LOG_LEVEL: 'warn',
    ...Object.fromEntries(ingest),
    ...setup.env,
  };
  const execArgv = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const fleet = await startFleet({ dataDir, env, execArgv });
  try {
    const api = new FleetApi(fleet.url);
    await api.login('admin', fleet.adminPassword);
    const claimToken = await api.createClaimToken({ maxUses: BOXES, ttlHours: 1 });
    const boxes: Box[] = [];
    for (let i = 0; i < BOXES; i++) {
      const hardwareId = `bench-${randomBytes(6).toString('hex')}`;
      // A keep-alive socket the server has just closed fails the request; provisioning is idempotent per hardware id.
      const provision = () => provisionBox(fleet.url, { claimToken, hardwareId });
      const { deviceId, mqtt: credentials } = await provision().catch(provision);
      boxes.push({
        deviceId,
        url: credentials.url,
        username: credentials.username,
        password: credentials.password,
      });
    }
    const started = performance.now();
    await publishAll(boxes, work);
    await waitFor('every sample stored', async () => (await setup.count()) >= work.total, {
      timeoutMs: 60_000 + work.total * 5,
      intervalMs: 20,
    });
    const seconds = (performance.now() - started) / 1000;
    const metrics = await api.metrics();
    const batches = /agentbox_ingest_batch_size_count\s+(\d+)/.exec(metrics)?.[1];
    if (batches)
      console.log(
        `    ingest wrote ${work.total} samples in ${batches} transactions (${(work.total / Number(batches)).toFixed(0)} per transaction)`,
      );
    return work.total / seconds;
  } catch (error) {
    console.error(readFileSync(fleet.logFile, 'utf8').slice(-3_000), setup.log?.());
    throw error;
  } finally {
    await fleet.kill('SIGTERM');
    await setup.teardown();
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-bench-'));
  try {
    console.log(
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}`,
    );
    for (const key of ENGINES) {
      const engine = engines[key];
      if (!engine) throw new Error(`unknown engine ${key} (sqlite, postgres)`);
      for (const samplesPerMessage of SIZES) {
        const messagesPerBox = samplesPerMessage === 1 ? MESSAGES_SINGLE : MESSAGES_BATCHED;
        const work = { messagesPerBox, samplesPerMessage, total: BOXES * messagesPerBox * samplesPerMessage };
        console.log(
          `\n${engine.name}, ${samplesPerMessage} sample(s) of 12 metrics per message: ${BOXES} boxes x ${messagesPerBox} messages = ${work.total} samples (QoS 1, ${INFLIGHT} in flight per box)`,
        );
        const broker = await rawBroker(await engine.bareBroker(dir), work);
        console.log(`  raw broker (${engine.brokerName}, bare subscriber): ${broker.toFixed(0)} samples/s`);
        const database = await engine.rawDatabase(dir, work);
        console.log(
          `  raw database (${engine.databaseName}, batches of 1,000): ${database.toFixed(0)} rows/s`,
        );
        const e2e = await endToEnd(engine, dir, work);
        console.log(`  end to end (boxes -> broker -> ingest -> database): ${e2e.toFixed(0)} samples/s`);
        console.log(
          `  ratio to raw broker: ${(e2e / broker).toFixed(2)}, to raw database: ${(e2e / database).toFixed(2)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
