import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sleep } from '@agentbox/retry';

const PROBE_TIMEOUT_MS = 2_000;
/** How often the SQLite probe looks again while another caller's transaction holds the connection. */
const SQLITE_BUSY_POLL_MS = 10;

/** better-sqlite3's connection: synchronous, so nothing else runs on it during one call. */
interface SqliteConnection {
  readonly inTransaction: boolean;
  prepare(sql: string): { run(...params: unknown[]): unknown };
}

/**
 * Whether the database takes a write within 2 s: what `/readyz` reports, and how ingest tells a database
 * that is away or full (keep the batch, try again) from one that refuses the batch itself. A read is not
 * enough: a full disk or a read-only database answers `SELECT 1` and refuses every write.
 */
@Injectable()
export class DatabaseProbe {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async writable(): Promise<boolean> {
    if (!this.dataSource.isInitialized) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    });
    const deadline = Date.now() + PROBE_TIMEOUT_MS;
    try {
      return await Promise.race([this.write(deadline).then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private async write(deadline: number): Promise<void> {
    const upsert =
      'INSERT INTO readiness_probe (id, checked_at) VALUES (1, ' +
      `${Date.now()}) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`;
    if (this.dataSource.options.type !== 'better-sqlite3') {
      // A pool client of its own, in autocommit: the answer is this statement's own COMMIT.
      await this.dataSource.query(upsert);
      return;
    }
    // SQLite has one connection for every caller: while another caller's transaction is open, a write
    // through TypeORM would join it and "succeed" without committing anything. The probe waits for the
    // connection to be outside any transaction and then commits on its own, in one synchronous call.
    const connection = (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    while (connection.inTransaction) {
      if (Date.now() > deadline) throw new Error('the connection stayed inside a transaction');
      await sleep(SQLITE_BUSY_POLL_MS);
    }
    connection.prepare(upsert).run();
  }
}
