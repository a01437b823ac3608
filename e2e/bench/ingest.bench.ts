// Ingest benchmark: N simulated boxes publish telemetry to a real fleet-service process (embedded
// broker + SQLite). Prints end-to-end samples/s into the database and, in the same run, two
// baselines: the raw broker (a bare Aedes with a bare subscriber) and raw SQLite inserts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { SCHEMA_VERSION, topics, type TelemetrySample } from '@agentbox/schemas';
import { FleetApi } from '../support/api.js';
import { startFleet } from '../support/processes.js';
import { freePort, provisionBox, SimulatedBox, waitFor } from '@agentbox/test-support';

const BOXES = Number(process.env.BENCH_BOXES ?? 50);
const MESSAGES_PER_BOX = Number(process.env.BENCH_MESSAGES ?? 400);
const INFLIGHT = 20;
const TOTAL = BOXES * MESSAGES_PER_BOX;

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

/** A whole telemetry message as a box sends it, for the raw database baseline to take apart. */
function telemetryPayload(seq: number): string {
  const ts = Date.now();
  return JSON.stringify({ v: SCHEMA_VERSION, seq, ts, samples: [sample(seq, ts)] });
}

interface Box {
  deviceId: string;
  url: string;
  password: string;
}

/** Connects the boxes and publishes MESSAGES_PER_BOX QoS 1 messages from each with a bounded in-flight window. */
async function publishAll(boxes: Box[]): Promise<void> {
  const simulated = await Promise.all(
    boxes.map((box) => SimulatedBox.connect({ ...box, mqtt: { connectTimeout: 30_000 } })),
  );
  await Promise.all(
    simulated.map(async (box) => {
      let sent = 0;
      const worker = async () => {
        while (sent < MESSAGES_PER_BOX) {
          sent += 1;
          const seq = box.nextSeq();
          await box.telemetry([sample(seq)], { seq });
        }
      };
      await Promise.all(Array.from({ length: INFLIGHT }, worker));
    }),
  );
  await Promise.all(simulated.map((box) => box.close()));
}

async function rawBroker(): Promise<number> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${port}`;
  let received = 0;
  const subscriber = mqtt.connect(url, { protocolVersion: 5, clientId: 'bare-subscriber' });
  await new Promise((resolve) => subscriber.once('connect', resolve));
  await subscriber.subscribeAsync(topics.allUpFilter(), { qos: 1 });
  subscriber.on('message', () => received++);
  const boxes = Array.from({ length: BOXES }, (_, i) => ({ deviceId: `raw-${i}`, url, password: 'unused' }));
  const started = performance.now();
  await publishAll(boxes);
  await waitFor('bare subscriber received everything', () => received >= TOTAL, {
    timeoutMs: 120_000,
    intervalMs: 5,
  });
  const seconds = (performance.now() - started) / 1000;
  await subscriber.endAsync();
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  server.close();
  return TOTAL / seconds;
}

function rawDatabase(dir: string): number {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec(
    'CREATE TABLE samples (device_id TEXT, seq INTEGER, idx INTEGER, ts INTEGER, "values" TEXT, PRIMARY KEY (device_id, seq, idx))',
  );
  const insert = db.prepare('INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?)');
  const batch = db.transaction((rows: Array<[string, number, number, number, string]>) => {
    for (const row of rows) insert.run(...row);
  });
  const started = performance.now();
  // Same batch size as ingest's writer flushes at most.
  for (let box = 0; box < BOXES; box++) {
    const rows: Array<[string, number, number, number, string]> = [];
    for (let seq = 1; seq <= MESSAGES_PER_BOX; seq++) {
      rows.push([
        `box-${box}`,
        seq,
        0,
        Date.now(),
        JSON.stringify(JSON.parse(telemetryPayload(seq)).samples[0].values),
      ]);
    }
    batch(rows);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return TOTAL / seconds;
}

async function endToEnd(dir: string): Promise<{ rate: number; p50?: string }> {
  const fleet = await startFleet({ dataDir: join(dir, 'fleet'), env: { AGENTBOX_LOG_LEVEL: 'warn' } });
  try {
    const api = new FleetApi(fleet.url);
    await api.login('admin', fleet.adminPassword);
    const claimToken = await api.createClaimToken({ maxUses: BOXES, ttlHours: 1 });
    const boxes: Box[] = [];
    for (let i = 0; i < BOXES; i++) {
      const { deviceId, mqtt: credentials } = await provisionBox(fleet.url, {
        claimToken,
        hardwareId: `bench-${randomBytes(6).toString('hex')}`,
      });
      boxes.push({ deviceId, url: credentials.url, password: credentials.password });
    }
    const db = new Database(join(dir, 'fleet', 'fleet.sqlite'), { readonly: true, fileMustExist: true });
    const count = () => (db.prepare('SELECT count(*) AS n FROM telemetry_samples').get() as { n: number }).n;
    const started = performance.now();
    await publishAll(boxes);
    await waitFor('every sample stored', () => count() >= TOTAL, { timeoutMs: 300_000, intervalMs: 20 });
    const seconds = (performance.now() - started) / 1000;
    db.close();
    const metrics = await api.metrics();
    const batches = /agentbox_ingest_batch_size_count\s+(\d+)/.exec(metrics)?.[1];
    if (batches)
      console.log(
        `  ingest wrote ${TOTAL} samples in ${batches} batches (${(TOTAL / Number(batches)).toFixed(1)} per transaction)`,
      );
    return { rate: TOTAL / seconds };
  } finally {
    await fleet.kill('SIGTERM');
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-bench-'));
  try {
    console.log(
      `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(
      `workload: ${BOXES} boxes x ${MESSAGES_PER_BOX} telemetry messages (1 sample, 12 metrics, QoS 1, ${INFLIGHT} in flight per box)`,
    );
    const broker = await rawBroker();
    console.log(`raw broker (bare Aedes, bare subscriber):   ${broker.toFixed(0)} msg/s`);
    const database = rawDatabase(dir);
    console.log(`raw SQLite (batched inserts, one process):  ${database.toFixed(0)} rows/s`);
    const e2e = await endToEnd(dir);
    console.log(`end to end (boxes -> broker -> ingest -> SQLite): ${e2e.rate.toFixed(0)} samples/s`);
    console.log(`ratio end-to-end / raw broker:   ${(e2e.rate / broker).toFixed(2)}`);
    console.log(`ratio end-to-end / raw database: ${(e2e.rate / database).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
