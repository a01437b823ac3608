import { ROLLUP_BUCKET_MS } from '@agentbox/schemas';

/**
 * The SQL of telemetry rollups for PostgreSQL and SQLite. A bucket's stats are one JSON object per box and
 * bucket, `{metric: [min, max, sum, count]}` (docs/operations.md, "Telemetry rollups"): sums and counts
 * rather than averages, so hours are made exactly from minutes. Bucket lengths are constants of the code,
 * written into the statements; everything from outside is a parameter.
 */

/** Whole buckets of one box to roll up again, [fromTs, toTs). */
export interface BucketSpan {
  deviceId: string;
  fromTs: number;
  toTs: number;
}

/** The bucket lengths of the two rollup resolutions the API serves. */
export const MINUTE_MS = ROLLUP_BUCKET_MS['1m'];
export const HOUR_MS = ROLLUP_BUCKET_MS['1h'];

/** Which rows of the source an aggregate reads. */
type Scope =
  | { kind: 'all' } // ts in [p1, p2)
  | { kind: 'device' } // device p1, ts in [p2, p3)
  | { kind: 'spans' }; // the JSON array of BucketSpan p1

interface Dialect {
  postgres: boolean;
  p: (n: number) => string;
}

/** Per box, bucket and metric: min, max, sum, count of the samples (values are JSON objects of numbers). */
function fromSamples(d: Dialect, bucketMs: number, scope: Scope): string {
  const value = d.postgres ? 'v.value::text::float8' : 'v.value';
  const each = d.postgres ? 'CROSS JOIN LATERAL jsonb_each(s."values") v' : 'JOIN json_each(s."values") v';
  const numbers = d.postgres ? "jsonb_typeof(v.value) = 'number'" : "v.type IN ('integer', 'real')";
  return (
    `SELECT s.device_id AS device_id, (s.ts / ${bucketMs}) * ${bucketMs} AS bucket, v.key AS metric, ` +
    `min(${value}) AS mn, max(${value}) AS mx, sum(${value}) AS sm, count(*) AS n ` +
    `FROM telemetry_samples s ${each} ${spanJoin(d, scope, 's.device_id', 's.ts')} ` +
    `WHERE ${numbers} AND ${range(d, scope, 's.device_id', 's.ts')} ` +
    'GROUP BY s.device_id, bucket, v.key'
  );
}

/** Per box, hour and metric, from the stored minute buckets. */
function fromMinutes(d: Dialect, scope: Scope): string {
  const at = (i: number, type: string) =>
    d.postgres ? `(v.value->>${i})::${type}` : `json_extract(v.value, '$[${i}]')`;
  const each = d.postgres ? 'CROSS JOIN LATERAL jsonb_each(m.stats) v' : 'JOIN json_each(m.stats) v';
  return (
    `SELECT m.device_id AS device_id, (m.bucket_ts / ${HOUR_MS}) * ${HOUR_MS} AS bucket, v.key AS metric, ` +
    `min(${at(0, 'float8')}) AS mn, max(${at(1, 'float8')}) AS mx, sum(${at(2, 'float8')}) AS sm, ` +
    `sum(${at(3, 'bigint')}) AS n ` +
    `FROM telemetry_rollups m ${each} ${spanJoin(d, scope, 'm.device_id', 'm.bucket_ts')} ` +
    `WHERE m.bucket_ms = ${MINUTE_MS} AND ${range(d, scope, 'm.device_id', 'm.bucket_ts')} ` +
    'GROUP BY m.device_id, bucket, v.key'
  );
}

function range(d: Dialect, scope: Scope, device: string, ts: string): string {
  switch (scope.kind) {
    case 'all':
      return `${ts} >= ${d.p(1)} AND ${ts} < ${d.p(2)}`;
    case 'device':
      return `${device} = ${d.p(1)} AND ${ts} >= ${d.p(2)} AND ${ts} < ${d.p(3)}`;
    case 'spans':
      return 'true';
  }
}

function spanJoin(d: Dialect, scope: Scope, device: string, ts: string): string {
  if (scope.kind !== 'spans') return '';
  const spans = d.postgres
    ? `json_to_recordset(${d.p(1)}::json) AS r("deviceId" varchar(64), "fromTs" bigint, "toTs" bigint)`
    : `(SELECT json_extract(j.value, '$.deviceId') AS "deviceId", json_extract(j.value, '$.fromTs') AS "fromTs", ` +
      `json_extract(j.value, '$.toTs') AS "toTs" FROM json_each(${d.p(1)}) j) r`;
  return `JOIN ${spans} ON ${device} = r."deviceId" AND ${ts} >= r."fromTs" AND ${ts} < r."toTs"`;
}

/** One row per box and bucket, its metrics' stats gathered into one JSON object. */
function perBucket(d: Dialect, perMetric: string): string {
  const stats = d.postgres
    ? 'jsonb_object_agg(metric, jsonb_build_array(mn, mx, sm, n))'
    : 'json_group_object(metric, json_array(mn, mx, sm, n))';
  return `SELECT device_id, bucket AS bucket_ts, ${stats} AS stats FROM (${perMetric}) g GROUP BY device_id, bucket`;
}

/** Writes the buckets, replacing those stored (every bucket is recomputed whole). */
function upsert(d: Dialect, bucketMs: number, perMetric: string): string {
  // `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint (sqlite.org/lang_upsert.html).
  return (
    `INSERT INTO telemetry_rollups (device_id, bucket_ms, bucket_ts, stats) ` +
    `SELECT device_id, ${bucketMs}, bucket_ts, stats FROM (${perBucket(d, perMetric)}) b WHERE true ` +
    'ORDER BY device_id, bucket_ts ' +
    'ON CONFLICT (device_id, bucket_ms, bucket_ts) DO UPDATE SET stats = excluded.stats'
  );
}

function select(d: Dialect, perMetric: string): string {
  return `SELECT bucket_ts, stats FROM (${perBucket(d, perMetric)}) b ORDER BY bucket_ts`;
}

export function rollupSql(postgres: boolean) {
  const d: Dialect = { postgres, p: (n) => (postgres ? `$${n}` : '?') };
  return {
    /** Params: from, to (every box). */
    minutesFromSamples: upsert(d, MINUTE_MS, fromSamples(d, MINUTE_MS, { kind: 'all' })),
    /** Params: from, to (every box). */
    hoursFromMinutes: upsert(d, HOUR_MS, fromMinutes(d, { kind: 'all' })),
    /** Params: the JSON array of BucketSpan. */
    minutesFromSamplesOf: upsert(d, MINUTE_MS, fromSamples(d, MINUTE_MS, { kind: 'spans' })),
    /** Params: the JSON array of BucketSpan. */
    hoursFromMinutesOf: upsert(d, HOUR_MS, fromMinutes(d, { kind: 'spans' })),
    /** Takes every late span (they are rolled up in the same transaction). */
    takeLate: postgres
      ? // Locked in box order, as ingest upserts them, so the two never deadlock.
        'DELETE FROM telemetry_rollup_late WHERE device_id IN ' +
        '(SELECT device_id FROM telemetry_rollup_late ORDER BY device_id FOR UPDATE) ' +
        'RETURNING device_id, from_ts, to_ts'
      : 'DELETE FROM telemetry_rollup_late RETURNING device_id, from_ts, to_ts',
    /** Params: device, bucket length, from, to. */
    storedBuckets:
      'SELECT bucket_ts, stats FROM telemetry_rollups ' +
      `WHERE device_id = ${d.p(1)} AND bucket_ms = ${d.p(2)} AND bucket_ts >= ${d.p(3)} AND bucket_ts < ${d.p(4)} ` +
      'ORDER BY bucket_ts',
    /** Params: device, from, to. */
    hoursOfDeviceFromMinutes: select(d, fromMinutes(d, { kind: 'device' })),
    /** Params: device, from, to. */
    bucketsOfDeviceFromSamples: (bucketMs: number) => select(d, fromSamples(d, bucketMs, { kind: 'device' })),
  };
}
