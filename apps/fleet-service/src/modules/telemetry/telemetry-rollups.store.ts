import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type QueryResult } from 'typeorm';
import type { TelemetrySeriesPoint } from '@agentbox/schemas';
import { SqlDialect } from '../../database/sql-values.js';
import { HOUR_MS, MINUTE_MS, rollupSql, type BucketSpan } from './telemetry-rollup-sql.js';

export { HOUR_MS, MINUTE_MS } from './telemetry-rollup-sql.js';

/**
 * A bucket is rolled up once it ended this long ago. A sample stored later than LATE_AFTER_MS after its
 * time is marked late by the write that stores it (telemetry.store.ts) and its buckets are rolled up
 * again; the minute between the two covers the time from that check to the commit.
 */
export const ROLLUP_DELAY_MS = 3 * MINUTE_MS;
export const LATE_AFTER_MS = 2 * MINUTE_MS;

/** At most this much raw time is rolled up in one pass, so a first pass over days of samples is spread out. */
const MAX_RAW_SPAN_MS = 6 * HOUR_MS;

/** Arbitrary constant naming the advisory lock a rollup pass holds on PostgreSQL (one replica at a time). */
const ROLLUP_LOCK_KEY = 0x726f6c75;

/** A box's stats of one bucket: per metric [min, max, sum, count]. */
type Stats = Record<string, [number, number, number, number]>;

export interface RollupPass {
  /** Whether this replica ran the pass (another one held the lock otherwise). */
  ran: boolean;
  minuteBuckets: number;
  hourBuckets: number;
  lateBoxes: number;
  /** How far each resolution is rolled up after the pass (epoch ms; null before the first samples). */
  doneUntil: { minute: number | null; hour: number | null };
}

/**
 * Rollups of telemetry samples into 1-minute and 1-hour buckets (docs/operations.md, "Telemetry
 * rollups"): minutes from the samples, hours from the minutes, each as far as its mark says, then the
 * late spans again. Every step recomputes whole buckets from what is stored and replaces them, so a pass
 * repeated (or run on two replicas at once) gives the same rows.
 */
@Injectable()
export class TelemetryRollupsStore {
  private readonly sql: SqlDialect;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sql = new SqlDialect(dataSource);
  }

  /**
   * One pass at `now`. A fleet without a minute mark yet (a new one, or one just upgraded) starts at
   * `backfillFrom` (the oldest samples retention keeps), else at its oldest sample.
   */
  async rollUp(now: number, backfillFrom?: number): Promise<RollupPass> {
    return this.dataSource.transaction(async (manager) => {
      const pass: RollupPass = {
        ran: false,
        minuteBuckets: 0,
        hourBuckets: 0,
        lateBoxes: 0,
        doneUntil: { minute: null, hour: null },
      };
      if (this.sql.postgres) {
        const rows = await manager.query<Array<{ locked: boolean }>>(
          'SELECT pg_try_advisory_xact_lock($1::int, hashtext(current_schema())) AS locked',
          [ROLLUP_LOCK_KEY],
        );
        if (rows[0]?.locked !== true) return pass;
      }
      pass.ran = true;
      const q = rollupSql(this.sql.postgres);
      const marks = await this.marks(manager);

      // Minutes, from the samples.
      const minuteStart =
        marks.get(MINUTE_MS) ??
        (backfillFrom !== undefined
          ? floorTo(backfillFrom, MINUTE_MS)
          : await this.firstSampleMinute(manager));
      let minuteDone = minuteStart;
      if (minuteStart !== null) {
        const closed = Math.floor((now - ROLLUP_DELAY_MS) / MINUTE_MS) * MINUTE_MS;
        const end = Math.min(closed, minuteStart + MAX_RAW_SPAN_MS);
        if (end > minuteStart) {
          pass.minuteBuckets = await execute(manager, q.minutesFromSamples, [minuteStart, end]);
          minuteDone = end;
          await this.setMark(manager, MINUTE_MS, end);
        }
      }

      // Hours, from the minutes: only hours whose minutes are all rolled up.
      let hourDone = marks.get(HOUR_MS) ?? (minuteStart === null ? null : floorTo(minuteStart, HOUR_MS));
      if (minuteDone !== null && hourDone !== null) {
        const end = floorTo(minuteDone, HOUR_MS);
        if (end > hourDone) {
          pass.hourBuckets = await execute(manager, q.hoursFromMinutes, [hourDone, end]);
          hourDone = end;
          await this.setMark(manager, HOUR_MS, end);
        }
      }

      // Late samples: their whole buckets again, as far as each resolution is done.
      const { records: late } = await structured<{
        device_id: string;
        from_ts: string | number;
        to_ts: string | number;
      }>(manager, q.takeLate);
      pass.lateBoxes = late.length;
      if (late.length > 0 && minuteDone !== null) {
        const minutes = spans(late, MINUTE_MS, minuteDone);
        if (minutes.length > 0) await execute(manager, q.minutesFromSamplesOf, [JSON.stringify(minutes)]);
        const hours = hourDone === null ? [] : spans(late, HOUR_MS, hourDone);
        if (hours.length > 0) await execute(manager, q.hoursFromMinutesOf, [JSON.stringify(hours)]);
      }
      pass.doneUntil = { minute: minuteDone, hour: hourDone };
      return pass;
    });
  }

  /**
   * The points of one box in [from, to) at `bucketMs`: the stored rollups, then what is not rolled up
   * yet (the last minutes, or spans a pass has not reached) aggregated from the samples as they are read.
   */
  async series(
    deviceId: string,
    bucketMs: number,
    from: number,
    to: number,
  ): Promise<TelemetrySeriesPoint[]> {
    const q = rollupSql(this.sql.postgres);
    const start = floorTo(from, bucketMs);
    const marks = await this.marks(this.dataSource.manager);
    const minuteDone = marks.get(MINUTE_MS) ?? start;
    const done = Math.max(start, Math.min(marks.get(bucketMs) ?? start, to));
    const stored =
      done > start
        ? await this.dataSource.query<Array<{ bucket_ts: string | number; stats: Stats | string }>>(
            q.storedBuckets,
            [deviceId, bucketMs, start, done],
          )
        : [];
    // Hours not rolled up yet: from the minutes where they exist, then from the samples.
    const fromMinutes =
      bucketMs === HOUR_MS && minuteDone > done
        ? await this.dataSource.query<Array<{ bucket_ts: string | number; stats: Stats | string }>>(
            q.hoursOfDeviceFromMinutes,
            [deviceId, done, Math.min(floorTo(minuteDone, HOUR_MS), to)],
          )
        : [];
    const rawFrom = bucketMs === HOUR_MS ? Math.max(done, floorTo(minuteDone, HOUR_MS)) : done;
    const fresh =
      to > rawFrom
        ? await this.dataSource.query<Array<{ bucket_ts: string | number; stats: Stats | string }>>(
            q.bucketsOfDeviceFromSamples(bucketMs),
            [deviceId, rawFrom, to],
          )
        : [];
    return [...stored, ...fromMinutes, ...fresh].map((row) => toPoint(Number(row.bucket_ts), row.stats));
  }

  /** Deletes the buckets of one resolution that started before `cutoffMs`; returns how many. */
  async deleteOlderThan(bucketMs: number, cutoffMs: number): Promise<number> {
    const params: unknown[] = [];
    return execute(
      this.dataSource.manager,
      `DELETE FROM telemetry_rollups WHERE bucket_ms = ${this.sql.param(params, bucketMs)} ` +
        `AND bucket_ts < ${this.sql.param(params, cutoffMs)}`,
      params,
    );
  }

  private async marks(manager: EntityManager): Promise<Map<number, number>> {
    const rows = await manager.query<Array<{ bucket_ms: number; done_until: string | number }>>(
      'SELECT bucket_ms, done_until FROM telemetry_rollup_marks',
    );
    return new Map(rows.map((row) => [Number(row.bucket_ms), Number(row.done_until)]));
  }

  private async setMark(manager: EntityManager, bucketMs: number, doneUntil: number): Promise<void> {
    const params: unknown[] = [];
    await manager.query(
      `INSERT INTO telemetry_rollup_marks (bucket_ms, done_until) VALUES ${this.sql.tuple(params, [bucketMs, doneUntil])} ` +
        'ON CONFLICT (bucket_ms) DO UPDATE SET done_until = excluded.done_until',
      params,
    );
  }

  private async firstSampleMinute(manager: EntityManager): Promise<number | null> {
    const rows = await manager.query<Array<{ first: string | number | null }>>(
      'SELECT min(ts) AS first FROM telemetry_samples',
    );
    const first = rows[0]?.first;
    return first === null || first === undefined ? null : floorTo(Number(first), MINUTE_MS);
  }
}

export function floorTo(ts: number, bucketMs: number): number {
  return Math.floor(ts / bucketMs) * bucketMs;
}

/** Late spans as whole buckets, up to where the resolution is done (later buckets come in the next pass). */
function spans(
  late: ReadonlyArray<{ device_id: string; from_ts: string | number; to_ts: string | number }>,
  bucketMs: number,
  doneUntil: number,
): BucketSpan[] {
  const out: BucketSpan[] = [];
  for (const row of late) {
    const from = floorTo(Number(row.from_ts), bucketMs);
    const to = Math.min(floorTo(Number(row.to_ts), bucketMs) + bucketMs, doneUntil);
    if (to > from) out.push({ deviceId: row.device_id, fromTs: from, toTs: to });
  }
  return out;
}

function toPoint(ts: number, raw: Stats | string): TelemetrySeriesPoint {
  const stats: Stats = typeof raw === 'string' ? (JSON.parse(raw) as Stats) : raw;
  const point: Required<TelemetrySeriesPoint> = { ts, values: {}, min: {}, max: {} };
  for (const [metric, [min, max, sum, count]] of Object.entries(stats)) {
    point.values[metric] = count > 0 ? sum / count : 0;
    point.min[metric] = min;
    point.max[metric] = max;
  }
  return point;
}

/**
 * TypeORM's structured result of one statement: the rows a DELETE … RETURNING gave back (plain `query`
 * answers [rows, count] for it on PostgreSQL) and how many rows a write touched.
 */
async function structured<T>(
  manager: EntityManager,
  statement: string,
  parameters: unknown[] = [],
): Promise<QueryResult<T>> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    return (await runner.query(statement, parameters, true)) as QueryResult<T>;
  } finally {
    if (!manager.queryRunner) await runner.release();
  }
}

/** Runs a statement that writes; returns how many rows it wrote. */
async function execute(manager: EntityManager, statement: string, parameters: unknown[]): Promise<number> {
  return (await structured(manager, statement, parameters)).affected ?? 0;
}
