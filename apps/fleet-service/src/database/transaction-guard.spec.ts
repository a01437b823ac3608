import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { dropSchema, postgresReachable, randomSchemaName, TEST_POSTGRES_URL } from '@agentbox/test-support';
import { useTempDir } from '@agentbox/test-support/vitest';
import { AppConfig } from '../config/app-config.js';
import { buildDataSourceOptions, ensurePostgresSchema, openDataSource } from './data-source-options.js';

const insert = (dataSource: DataSource, id: number, body: string) =>
  dataSource.transaction((manager) =>
    manager.query('INSERT INTO notes (id, body) VALUES (?, ?)', [id, body]),
  );

/** What a fresh connection finds in the file: only what was committed. */
function committedIds(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM notes ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  } finally {
    db.close();
  }
}

describe('transactions on the one better-sqlite3 connection after a failed write', () => {
  const dir = useTempDir('agentbox-txguard-');
  let dataSource: DataSource | undefined;

  afterEach(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

  async function open(): Promise<{ dataSource: DataSource; file: string }> {
    const config = AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dir.path });
    if (config.database.type !== 'sqlite') throw new Error('expected sqlite');
    dataSource = await openDataSource({ ...buildDataSourceOptions(config), entities: [] });
    await dataSource.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    return { dataSource, file: config.database.path };
  }

  it('commits what comes after a transaction that SQLite rolled back by itself (disk full)', async () => {
    const { dataSource, file } = await open();
    // SQLITE_FULL without filling a disk: the file may not grow past the pages it has.
    const [row] = await dataSource.query<Array<{ page_count: number }>>('PRAGMA page_count');
    await dataSource.query(`PRAGMA max_page_count = ${row!.page_count}`);
    await expect(insert(dataSource, 1, 'x'.repeat(100_000))).rejects.toThrow(/full/);
    await dataSource.query('PRAGMA max_page_count = 1073741823');
    // An ordinary refused write (duplicate key) in between, then two good ones.
    await insert(dataSource, 2, 'first');
    await expect(insert(dataSource, 2, 'again')).rejects.toThrow(/UNIQUE/);
    await insert(dataSource, 3, 'second');

    expect(committedIds(file)).toEqual([2, 3]);
    await dataSource.destroy();
    expect(committedIds(file)).toEqual([2, 3]);
  });

  it('rolls back a transaction whose COMMIT failed and left it open', async () => {
    const { dataSource, file } = await open();
    await dataSource.query('CREATE TABLE parents (id INTEGER PRIMARY KEY)');
    await dataSource.query(
      'CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)',
    );
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    await runner.query('INSERT INTO children (id, parent_id) VALUES (1, 99)');
    // The deferred foreign key fails the COMMIT, and SQLite keeps the transaction open.
    await expect(runner.commitTransaction()).rejects.toThrow(/FOREIGN KEY/);
    await runner.release();

    await insert(dataSource, 1, 'after');
    expect(committedIds(file)).toEqual([1]);
    expect(await dataSource.query('SELECT id FROM children')).toEqual([]);
  });

  it('keeps concurrent callers apart: each transaction commits or rolls back whole, on its own', async () => {
    const { dataSource, file } = await open();
    const good = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO notes (id, body) VALUES (1, ?)', ['a']);
      await manager.query('INSERT INTO notes (id, body) VALUES (2, ?)', ['b']);
    });
    const bad = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO notes (id, body) VALUES (3, ?)', ['c']);
      await manager.query('INSERT INTO notes (id, body) VALUES (3, ?)', ['again']);
    });
    const outcomes = await Promise.allSettled([good, bad]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected']);
    expect(committedIds(file)).toEqual([1, 2]);
  });

  it('never runs a statement of another caller inside an open transaction', async () => {
    const { dataSource, file } = await open();
    let fail!: () => void;
    let entered!: () => void;
    const failing = new Promise<void>((_, reject) => (fail = () => reject(new Error('refused'))));
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const transaction = dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO notes (id, body) VALUES (1, ?)', ['undone']);
      entered();
      await failing;
    });
    await inside;
    const outside = dataSource.query('INSERT INTO notes (id, body) VALUES (2, ?)', ['kept']);
    fail();
    await expect(transaction).rejects.toThrow('refused');
    await outside;
    expect(committedIds(file)).toEqual([2]);
  });
});

const pgReachable = await postgresReachable();

describe.skipIf(!pgReachable)('PostgreSQL pool clients after an unfinished transaction', () => {
  const schema = randomSchemaName('agentbox_txguard');
  afterAll(() => dropSchema(schema));

  it('never lends out a client that is still inside a transaction', async () => {
    const config = AppConfig.fromEnv({
      DATABASE_URL: TEST_POSTGRES_URL,
      AGENTBOX_DB_SCHEMA: schema,
      AGENTBOX_DATA_DIR: join('/tmp', schema),
    });
    if (config.database.type !== 'postgres') throw new Error('expected postgres');
    await ensurePostgresSchema(config.database.url, schema);
    const dataSource = await openDataSource({ ...buildDataSourceOptions(config), entities: [] });
    const outside = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await outside.connect();
    try {
      await dataSource.query('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
      const runner = dataSource.createQueryRunner();
      await runner.startTransaction();
      await runner.query(`INSERT INTO notes (id, body) VALUES (1, 'never committed')`);
      // Handed back without COMMIT or ROLLBACK, as when both failed on a broken connection. The pool
      // lends its most recently returned client first, so the next query would get this one.
      await runner.release();

      await dataSource.query(`INSERT INTO notes (id, body) VALUES (2, 'autocommit')`);
      await dataSource.query(`INSERT INTO notes (id, body) VALUES (3, 'autocommit')`);
      const seen = await outside.query<{ id: number }>(`SELECT id FROM "${schema}".notes ORDER BY id`);
      expect(seen.rows.map((row) => row.id)).toEqual([2, 3]);
    } finally {
      await outside.end();
      await dataSource.destroy();
    }
  });
});
