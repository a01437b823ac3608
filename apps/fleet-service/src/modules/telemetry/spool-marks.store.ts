import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type Repository } from 'typeorm';
import { SqlDialect } from '../../database/sql-values.js';
import { DeviceSpoolMarkRow } from './device-spool-mark.entity.js';

export interface SpoolMark {
  deviceId: string;
  epoch: string;
  high: number;
  gaps: number;
  dropped: number;
}

/** Rows per upsert statement: 6 parameters each. */
const ROWS_PER_STATEMENT = 1_000;

/** Storage of the boxes' spool marks (device_spool_marks) on SQLite or PostgreSQL. */
@Injectable()
export class SpoolMarksStore {
  private readonly sql: SqlDialect;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(DeviceSpoolMarkRow) private readonly marks: Repository<DeviceSpoolMarkRow>,
  ) {
    this.sql = new SqlDialect(dataSource);
  }

  async all(): Promise<SpoolMark[]> {
    return (await this.marks.find()).map(({ deviceId, epoch, high, gaps, dropped }) => ({
      deviceId,
      epoch,
      high,
      gaps,
      dropped,
    }));
  }

  async get(deviceId: string): Promise<DeviceSpoolMarkRow | null> {
    return this.marks.findOneBy({ deviceId });
  }

  /** Writes the marks in one transaction, replacing what is stored for those boxes. */
  async save(marks: readonly SpoolMark[]): Promise<void> {
    if (marks.length === 0) return;
    const at = new Date();
    await this.dataSource.transaction((manager) =>
      this.sql.insertRows(
        manager,
        marks,
        ROWS_PER_STATEMENT,
        (mark) => [mark.deviceId, mark.epoch, mark.high, mark.gaps, mark.dropped, at],
        (tuples) =>
          `INSERT INTO device_spool_marks (device_id, epoch, high, gaps, dropped, updated_at) VALUES ${tuples}` +
          ' ON CONFLICT (device_id) DO UPDATE SET epoch = excluded.epoch, high = excluded.high,' +
          ' gaps = excluded.gaps, dropped = excluded.dropped, updated_at = excluded.updated_at' +
          // insertRows collects what each statement returns.
          ' RETURNING device_id',
      ),
    );
  }
}
