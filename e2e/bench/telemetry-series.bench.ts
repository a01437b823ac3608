// Telemetry series benchmark: how long a box's chart takes to load over 15 minutes, 24 hours, 7 and 30
// days, from a real fleet-service process holding 30 days of one box's samples (every 10 s, 12 metrics)
// beside the samples of other boxes. The baseline, measured in the same run, is the same requests before
// any rollup exists (every span aggregated from the samples as it is read); then the service rolls the
// samples up and the requests are timed again (docs/operations.md, "Telemetry rollups").
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { TEST_POSTGRES_URL, dropSchema, randomSchemaName, waitFor } from '@agentbox/test-support';
import { FleetApi } from '../support/api.js';
import { startFleet, type FleetProcess } from '../support/processes.js';
import { loadNow, machine, runBench } from '../support/bench-run.js';

const DAYS = Number(process.env.BENCH_DAYS ?? 30);
const INTERVAL_MS = 10_000;
/** Other boxes with the same history, so the tables are not one box's alone. */
const OTHER_BOXES = Number(process.env.BENCH_OTHER_BOXES ?? 3);
const RUNS = 5;
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const RANGES = { '15m': 15 * 60_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

type Insert = (rows: Array<[string, number, number, string]>) => Promise<void>;

function values(i: number): string {
  return JSON.stringify({
    'cpu.usage_pct': (i * 7) % 100,
    'cpu.iowait_pct': 0.5,
    'mem.used_pct': 40 + (i % 20),
    'mem.used_bytes': 4e9,
    'mem.total_bytes': 8e9,
    'load.1m': 0.5,
    'load.5m': 0.4,
    'load.15m': 0.3,
    'disk.used_pct': 50,
    'disk.used_bytes': 5e10,
    'disk.total_bytes': 1e11,
    'temp.cpu_c': 40 + (i % 10),
  });
}

async function seed(insert: Insert, now: number): Promise<number> {
  const count = Math.floor((DAYS * 86_400_000) / INTERVAL_MS);
  let total = 0;
  for (const box of ['box-chart', ...Array.from({ length: OTHER_BOXES }, (_, i) => `box-other-${i}`)]) {
    for (let start = 0; start < count; start += 5_000) {
      const rows: Array<[string, number, number, string]> = [];
      for (let i = start; i < Math.min(count, start + 5_000); i++) {
        rows.push([box, i + 1, now - (count - i) * INTERVAL_MS, values(i)]);
      }
      await insert(rows);
      total += rows.length;
    }
  }
  return total;
}

async function timeRanges(
  api: FleetApi,
  now: number,
): Promise<Record<string, { ms: number; points: number; resolution: string }>> {
  const out: Record<string, { ms: number; points: number; resolution: string }> = {};
  for (const [name, span] of Object.entries(RANGES)) {
    const times: number[] = [];
    let points = 0;
    let resolution = '';
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const response = await api.request<{ points: unknown[]; resolution: string }>(
        'GET',
        `/api/v1/devices/box-chart/telemetry/series?from=${now - span}&to=${now}`,
      );
      times.push(performance.now() - started);
      if (response.status !== 200)
        throw new Error(`${name}: ${response.status} ${JSON.stringify(response.body)}`);
      points = response.body.points.length;
      resolution = response.body.resolution;
    }
    times.sort((a, b) => a - b);
    out[name] = { ms: times[Math.floor(times.length / 2)]!, points, resolution };
  }
  return out;
}

async function engine(name: string, dir: string): Promise<void> {
  const dataDir = join(dir, name);
  const schema = randomSchemaName('bench_series');
  const dbEnv: Record<string, string> =
    name === 'postgres' ? { DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: schema } : {};
  const start = (tickMs: number): Promise<FleetProcess> =>
    startFleet({
      dataDir,
      env: {
        ...dbEnv,
        AGENTBOX_TELEMETRY_RETENTION_DAYS: String(DAYS + 1),
        AGENTBOX_TELEMETRY_ROLLUP_TICK_MS: String(tickMs),
        AGENTBOX_LOG_LEVEL: 'warn',
      },
    });
  let fleet = await start(3_600_000);
  const pool =
    name === 'postgres'
      ? new pg.Pool({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` })
      : null;
  const sqlite = name === 'sqlite' ? new Database(join(dataDir, 'fleet.sqlite')) : null;
  try {
    const insert: Insert = async (rows) => {
      if (pool) {
        await pool.query(
          `INSERT INTO telemetry_samples (device_id, seq, idx, ts, "values")
           SELECT d, s, 0, t, v::jsonb FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS r(d, s, t, v)`,
          [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
        );
      } else {
        const statement = sqlite!.prepare(
          'INSERT INTO telemetry_samples (device_id, seq, idx, ts, "values") VALUES (?, ?, 0, ?, ?)',
        );
        sqlite!.transaction(() => {
          for (const row of rows) statement.run(...row);
        })();
      }
    };
    const now = Date.now();
    const seeded = await seed(insert, now);
    const api = new FleetApi(fleet.url);
    await api.login('admin', fleet.adminPassword);
    const before = await timeRanges(api, now);

    // Restart with a short tick and wait until every resolution has caught up.
    await fleet.kill();
    const rolling = Date.now();
    fleet = await start(200);
    const marks = async (): Promise<number[]> => {
      const sql = 'SELECT done_until FROM telemetry_rollup_marks ORDER BY bucket_ms';
      const rows = pool
        ? (await pool.query<{ done_until: string }>(sql)).rows
        : (sqlite!.prepare(sql).all() as Array<{ done_until: number }>);
      return rows.map((row) => Number(row.done_until));
    };
    await waitFor(
      'rollups caught up',
      async () => {
        const [minute, hour] = await marks();
        return (
          minute !== undefined &&
          hour !== undefined &&
          minute >= now - 5 * 60_000 &&
          hour >= now - 2 * 3_600_000
        );
      },
      { timeoutMs: 1_800_000, intervalMs: 1_000 },
    );
    const rollupSeconds = (Date.now() - rolling) / 1000;
    // Timed on the default tick's quiet, not between passes every 200 ms.
    await fleet.kill();
    fleet = await start(3_600_000);
    const api2 = new FleetApi(fleet.url);
    await api2.login('admin', fleet.adminPassword);
    const after = await timeRanges(api2, now);

    console.log(
      `\n${name}: ${seeded.toLocaleString('en')} samples (${OTHER_BOXES + 1} boxes x ${DAYS} days every ${INTERVAL_MS / 1000} s); rolled up in ${rollupSeconds.toFixed(0)} s (restart included)`,
    );
    console.log('| range | resolution | points | from samples (baseline) | with rollups | ratio |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const range of Object.keys(RANGES)) {
      const b = before[range]!;
      const a = after[range]!;
      console.log(
        `| ${range} | ${a.resolution} | ${a.points} | ${b.ms.toFixed(1)} ms | ${a.ms.toFixed(1)} ms | ${(b.ms / a.ms).toFixed(1)}x |`,
      );
    }
  } finally {
    await fleet.kill();
    sqlite?.close();
    await pool?.end();
    if (name === 'postgres') await dropSchema(schema);
  }
}

runBench('telemetry-series', async (dir) => {
  console.log(`telemetry series benchmark on ${machine()}`);
  for (const name of ENGINES) await engine(name, dir);
  console.log(`\nload at the end: ${loadNow()}`);
});
