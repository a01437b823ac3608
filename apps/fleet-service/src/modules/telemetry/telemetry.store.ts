import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, LessThan, type Repository } from 'typeorm';
import { SqlDialect } from '../../database/sql-values.js';
import { TelemetrySampleRow } from './telemetry-sample.entity.js';

export interface NewTelemetrySample {
  deviceId: string;
  seq: number;
  idx: number;
  ts: number;
  values: Record<string, number>;
}

/** Rows per INSERT statement: 5 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ROWS_PER_STATEMENT = 2_000;

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
   * Inserts samples in ONE transaction with multi-row `INSERT ... ON CONFLICT DO NOTHING` (both drivers),
   * so a redelivered (deviceId, seq, idx) is skipped, not an error. Returns the rows actually inserted.
   */
  async insertBatch(rows: readonly NewTelemetrySample[]): Promise<NewTelemetrySample[]> {
    if (rows.length === 0) return [];
    return this.dataSource.transaction(async (manager) => {
      const returned = await this.sql.insertRows<NewTelemetrySample, StoredKey>(
        manager,
        rows,
        ROWS_PER_STATEMENT,
        (row) => [row.deviceId, row.seq, row.idx, row.ts, JSON.stringify(row.values)],
        (tuples) =>
          `INSERT INTO telemetry_samples (device_id, seq, idx, ts, "values") VALUES ${tuples}` +
          ' ON CONFLICT (device_id, seq, idx) DO NOTHING RETURNING device_id, seq, idx',
      );
      const keys = new Set(returned.map((r) => `${r.device_id}\u0000${Number(r.seq)}\u0000${r.idx}`));
      return rows.filter((row) => keys.has(`${row.deviceId}\u0000${row.seq}\u0000${row.idx}`));
    });
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

  /** Deletes samples measured before `cutoffMs`; returns how many. */
  async deleteOlderThan(cutoffMs: number): Promise<number> {
    const result = await this.samples.delete({ ts: LessThan(cutoffMs) });
    return result.affected ?? 0;
  }
}
