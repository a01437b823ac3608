import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, LessThan, type Repository } from 'typeorm';
import { SqlDialect } from '../../database/sql-values.js';
import { TelemetrySampleRow } from './telemetry-sample.entity.js';
import { dropOlderThan, ensurePartitions, type Query } from './telemetry-partitions.js';
import { LATE_AFTER_MS } from './telemetry-rollups.store.js';

/** Samples of one box a replica stored in one batch: their seq and ts spans (both ends included). */
export interface StoredTelemetry {
  deviceId: string;
  fromSeq: number;
  toSeq: number;
  fromTs: number;
  toTs: number;
}

export interface NewTelemetrySample {
  deviceId: string;
  seq: number;
  idx: number;
  ts: number;
  values: Record<string, number>;
}

/** Rows per INSERT statement: 5 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ROWS_PER_STATEMENT = 2_000;

/** Every row of the batch was inserted (none was a redelivery). */
const ALL_STORED = 'all';

/** The key of a stored sample as RETURNING gives it back (PostgreSQL returns bigint as a string). */
interface StoredKey {
  device_id: string;
  seq: number | string;
  idx: number;
}

/** Storage of telemetry samples on SQLite or PostgreSQL. */
@Injectable()
export class TelemetryStore {
  private readonly sql: SqlDialect;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(TelemetrySampleRow) private readonly samples: Repository<TelemetrySampleRow>,
  ) {
    this.sql = new SqlDialect(dataSource);
  }

  /**
   * Inserts samples in ONE transaction, so a redelivered (deviceId, seq, idx) is skipped, not an error;
   * returns the rows actually inserted. PostgreSQL takes the whole batch as one JSON parameter in one
   * statement (no per-row placeholders, no BEGIN/COMMIT round trips); SQLite takes multi-row
   * `INSERT ... ON CONFLICT DO NOTHING` statements in one transaction.
   */
  async insertBatch(rows: readonly NewTelemetrySample[], now = Date.now()): Promise<NewTelemetrySample[]> {
    if (rows.length === 0) return [];
    const lateBefore = now - LATE_AFTER_MS;
    const returned = this.sql.postgres
      ? await this.insertPostgres(rows, lateBefore)
      : await this.insertSqlite(rows, lateBefore);
    if (returned === ALL_STORED || returned.length === rows.length) return [...rows];
    const keys = new Set(returned.map((r) => `${r.device_id}\u0000${Number(r.seq)}\u0000${r.idx}`));
    return rows.filter((row) => keys.has(`${row.deviceId}\u0000${row.seq}\u0000${row.idx}`));
  }

  /**
   * The key includes ts on PostgreSQL (a partitioned table's key must hold the partition key,
   * docs/operations.md "Telemetry storage"): a redelivery carries the same ts, so it is still skipped.
   * Rows go in key order, so concurrent batches that share a redelivered key wait on each other instead
   * of deadlocking. Samples stored late (a box catching up) mark their box's span for the rollups in
   * the same statement, so no late sample is left out of them.
   *
   * Cost per row is what bounds ingest here (docs/benchmarks.md): the record's fields are read as `text`
   * and `json` (a `varchar(64)` check and a `jsonb` field in `json_to_recordset` parse each value twice),
   * and the keys come back only when some row was skipped: a batch without redeliveries answers one
   * count instead of a row per sample.
   */
  private async insertPostgres(
    rows: readonly NewTelemetrySample[],
    lateBefore: number,
  ): Promise<StoredKey[] | typeof ALL_STORED> {
    const sorted = [...rows].sort(byKey);
    const [answer] = await this.dataSource.query<{ stored: number; keys: StoredKey[] | null }[]>(
      `WITH stored AS (
         INSERT INTO telemetry_samples (device_id, seq, idx, ts, "values")
         SELECT "deviceId", seq, idx, ts, "values"
         FROM json_to_recordset($1::json) AS r("deviceId" text, seq bigint, idx integer, ts bigint, "values" json)
         ON CONFLICT (device_id, ts, seq, idx) DO NOTHING RETURNING device_id, seq, idx, ts
       ), late AS (
         INSERT INTO telemetry_rollup_late (device_id, from_ts, to_ts)
         SELECT device_id, min(ts), max(ts) FROM stored WHERE ts < $2 GROUP BY device_id ORDER BY device_id
         ON CONFLICT (device_id) DO UPDATE SET from_ts = LEAST(telemetry_rollup_late.from_ts, excluded.from_ts),
           to_ts = GREATEST(telemetry_rollup_late.to_ts, excluded.to_ts)
       )
       SELECT count(*)::int AS stored,
         CASE WHEN count(*) < $3 THEN json_agg(json_build_object('device_id', device_id, 'seq', seq, 'idx', idx)) END AS keys
       FROM stored`,
      [JSON.stringify(sorted), lateBefore, sorted.length],
    );
    if (!answer || answer.stored === sorted.length) return ALL_STORED;
    return answer.keys ?? [];
  }

  private insertSqlite(rows: readonly NewTelemetrySample[], lateBefore: number): Promise<StoredKey[]> {
    return this.dataSource.transaction(async (manager) => {
      const stored = await this.sql.insertRows<NewTelemetrySample, StoredKey & { ts: number }>(
        manager,
        rows,
        ROWS_PER_STATEMENT,
        (row) => [row.deviceId, row.seq, row.idx, row.ts, JSON.stringify(row.values)],
        (tuples) =>
          `INSERT INTO telemetry_samples (device_id, seq, idx, ts, "values") VALUES ${tuples}` +
          ' ON CONFLICT (device_id, seq, idx) DO NOTHING RETURNING device_id, seq, idx, ts',
      );
      const late = lateSpans(stored, lateBefore);
      if (late.length > 0) {
        await this.sql.insertRows(
          manager,
          late,
          ROWS_PER_STATEMENT,
          (span) => [span.deviceId, span.fromTs, span.toTs],
          (tuples) =>
            `INSERT INTO telemetry_rollup_late (device_id, from_ts, to_ts) VALUES ${tuples} ` +
            'ON CONFLICT (device_id) DO UPDATE SET from_ts = min(telemetry_rollup_late.from_ts, excluded.from_ts), ' +
            'to_ts = max(telemetry_rollup_late.to_ts, excluded.to_ts) RETURNING device_id',
        );
      }
      return stored;
    });
  }

  /**
   * Samples of the given boxes and sequence ranges, in key order: what the live bus tells another replica
   * to read (PostgreSQL only).
   */
  async inRanges(ranges: readonly StoredTelemetry[]): Promise<NewTelemetrySample[]> {
    if (ranges.length === 0) return [];
    const rows = await this.dataSource.query<
      Array<StoredKey & { ts: string | number; values: Record<string, number> }>
    >(
      `SELECT s.device_id, s.seq, s.idx, s.ts, s."values"
       FROM telemetry_samples s
       JOIN json_to_recordset($1::json)
         AS r("deviceId" varchar(64), "fromTs" bigint, "toTs" bigint, "fromSeq" bigint, "toSeq" bigint)
         ON s.device_id = r."deviceId" AND s.ts BETWEEN r."fromTs" AND r."toTs"
         AND s.seq BETWEEN r."fromSeq" AND r."toSeq"
       ORDER BY s.device_id, s.seq, s.idx`,
      [JSON.stringify(ranges)],
    );
    return rows.map((row) => ({
      deviceId: row.device_id,
      seq: Number(row.seq),
      idx: row.idx,
      ts: Number(row.ts),
      values: row.values,
    }));
  }

  /** Samples of one box, oldest first: from `since` on, or the latest `limit` when `since` is absent. */
  async query(deviceId: string, since: number | undefined, limit: number): Promise<TelemetrySampleRow[]> {
    const query = this.samples.createQueryBuilder('s').where('s.deviceId = :deviceId', { deviceId });
    if (since !== undefined) {
      return query
        .andWhere('s.ts >= :since', { since })
        .orderBy('s.ts', 'ASC')
        .addOrderBy('s.seq', 'ASC')
        .addOrderBy('s.idx', 'ASC')
        .take(limit)
        .getMany();
    }
    const latest = await query
      .orderBy('s.ts', 'DESC')
      .addOrderBy('s.seq', 'DESC')
      .addOrderBy('s.idx', 'DESC')
      .take(limit)
      .getMany();
    return latest.reverse();
  }

  /** Samples of one box in [from, to), oldest first, at most `limit`. */
  range(deviceId: string, from: number, to: number, limit: number): Promise<TelemetrySampleRow[]> {
    return this.samples
      .createQueryBuilder('s')
      .where('s.deviceId = :deviceId', { deviceId })
      .andWhere('s.ts >= :from AND s.ts < :to', { from, to })
      .orderBy('s.ts', 'ASC')
      .addOrderBy('s.seq', 'ASC')
      .addOrderBy('s.idx', 'ASC')
      .take(limit)
      .getMany();
  }

  /**
   * Deletes samples measured before `cutoffMs`; returns how many rows it deleted. On PostgreSQL whole daily
   * partitions go (their rows are not counted) and only the default partition's old rows are deleted.
   */
  async deleteOlderThan(cutoffMs: number): Promise<{ rows: number; partitions: string[] }> {
    if (this.sql.postgres) return dropOlderThan(this.raw, cutoffMs);
    const result = await this.samples.delete({ ts: LessThan(cutoffMs) });
    return { rows: result.affected ?? 0, partitions: [] };
  }

  /** PostgreSQL: creates the daily partitions of the next days (see telemetry-partitions.ts); returns those created. */
  async preparePartitions(now: number): Promise<string[]> {
    if (!this.sql.postgres) return [];
    const runner = this.dataSource.createQueryRunner();
    try {
      return await ensurePartitions((sql, parameters) => runner.query(sql, parameters), now);
    } finally {
      await runner.release();
    }
  }

  private readonly raw: Query = (sql, parameters) => this.dataSource.query(sql, parameters);
}

/** Per box, the time span of the samples stored before `lateBefore`, in box order. */
function lateSpans(
  stored: ReadonlyArray<{ device_id: string; ts: number | string }>,
  lateBefore: number,
): Array<{ deviceId: string; fromTs: number; toTs: number }> {
  const spans = new Map<string, { deviceId: string; fromTs: number; toTs: number }>();
  for (const row of stored) {
    const ts = Number(row.ts);
    if (ts >= lateBefore) continue;
    const span = spans.get(row.device_id);
    if (span) {
      span.fromTs = Math.min(span.fromTs, ts);
      span.toTs = Math.max(span.toTs, ts);
    } else spans.set(row.device_id, { deviceId: row.device_id, fromTs: ts, toTs: ts });
  }
  return [...spans.values()].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
}

function byKey(a: NewTelemetrySample, b: NewTelemetrySample): number {
  if (a.deviceId !== b.deviceId) return a.deviceId < b.deviceId ? -1 : 1;
  return a.seq - b.seq || a.idx - b.idx;
}
