import type { DataSource, QueryRunner } from 'typeorm';
import { takeTurnsOnSqlite } from './sqlite-turns.js';

/** The query runner state TypeORM keeps to itself and trusts over the connection's. */
interface RunnerState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

type GuardedRunner = QueryRunner & RunnerState;

/** better-sqlite3's own view of its one connection. */
interface SqliteConnection {
  readonly inTransaction: boolean;
  exec(sql: string): unknown;
}

/** pg's client: 'I' idle, 'T' in a transaction, 'E' in a failed transaction, null before the first query. */
interface PostgresClient {
  getTransactionStatus?(): string | null;
}

const GUARDED = Symbol('transaction-guard');

/**
 * Keeps TypeORM's idea of a transaction in step with the database connection's after a failed COMMIT
 * or ROLLBACK.
 *
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM,
 * see https://www.sqlite.org/lang_transaction.html "Response To Errors Within A Transaction"); TypeORM's
 * ROLLBACK then fails and its query runner, the ONE runner every caller of a better-sqlite3 data source
 * shares, still believes a transaction is open: every later "transaction" becomes a SAVEPOINT inside a
 * real transaction that nothing ever commits. The API then serves rows no COMMIT made durable, ingest
 * acknowledges them, and a restart drops them all. A failed COMMIT that leaves the transaction open
 * (SQLite keeps it on SQLITE_BUSY and on a deferred constraint) is rolled back here too, so the next
 * caller never writes into it.
 *
 * On PostgreSQL every transaction has a pool client of its own; one handed back while it is still
 * inside a transaction (its COMMIT and ROLLBACK failed, e.g. the connection broke in between) is
 * released with an error, so the pool closes it instead of lending it out again.
 */
export function guardTransactions(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as {
    createQueryRunner: (mode: 'master' | 'slave') => QueryRunner;
    databaseConnection?: SqliteConnection;
  };
  const create = driver.createQueryRunner.bind(driver);
  const sqlite = dataSource.options.type === 'better-sqlite3';
  const takeTurns = sqlite ? takeTurnsOnSqlite(dataSource) : undefined;
  driver.createQueryRunner = (mode) => {
    const runner = create(mode) as GuardedRunner & { [GUARDED]?: true };
    if (runner[GUARDED]) return runner;
    runner[GUARDED] = true;
    if (takeTurns) {
      takeTurns(runner);
      guardSqlite(runner, () => driver.databaseConnection);
    } else {
      guardPostgres(runner);
    }
    return runner;
  };
}

function guardSqlite(runner: GuardedRunner, connection: () => SqliteConnection | undefined): void {
  const commit = runner.commitTransaction.bind(runner);
  const rollback = runner.rollbackTransaction.bind(runner);

  /** After a failed COMMIT or ROLLBACK: what the connection says wins. */
  const resync = (outermost: boolean) => {
    const db = connection();
    if (!db) return;
    if (db.inTransaction && outermost) db.exec('ROLLBACK');
    if (!db.inTransaction) {
      runner.isTransactionActive = false;
      runner.transactionDepth = 0;
    }
  };

  runner.commitTransaction = async () => {
    const outermost = runner.transactionDepth <= 1;
    try {
      await commit();
    } catch (error) {
      resync(outermost);
      throw error;
    }
  };
  runner.rollbackTransaction = async () => {
    // Already undone by SQLite itself, or by a failed COMMIT above: nothing left to roll back.
    if (!runner.isTransactionActive && connection()?.inTransaction !== true) return;
    const outermost = runner.transactionDepth <= 1;
    try {
      await rollback();
    } catch (error) {
      resync(outermost);
      if (connection()?.inTransaction === true) throw error;
    }
  };
}

function guardPostgres(runner: GuardedRunner): void {
  const target = runner as GuardedRunner & {
    databaseConnection?: PostgresClient;
    releasePostgresConnection(error?: Error): Promise<void>;
  };
  const releaseWith = target.releasePostgresConnection.bind(target);
  target.release = () => {
    const status = target.databaseConnection?.getTransactionStatus?.();
    if (status === 'T' || status === 'E') {
      return releaseWith(new Error('released inside a transaction; the connection is closed'));
    }
    return releaseWith();
  };
}
