import { dirname } from 'node:path';
import pg from 'pg';
import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { ALERT_MIGRATIONS } from '../modules/alerts/migrations/index.js';
import { AGENT_MIGRATIONS } from '../modules/agents/migrations/index.js';
import { API_KEY_MIGRATIONS } from '../modules/api-keys/migrations/index.js';
import { AUTH_MIGRATIONS } from '../modules/auth/migrations/index.js';
import { AUDIT_MIGRATIONS } from '../modules/audit/migrations/index.js';
import { CONVERSATION_MIGRATIONS } from '../modules/conversations/migrations/index.js';
import { DEVICE_MIGRATIONS } from '../modules/devices/migrations/index.js';
import { HOOK_MIGRATIONS } from '../modules/hooks/migrations/index.js';
import { NOTIFICATION_MIGRATIONS } from '../modules/notifications/migrations/index.js';
import { RELEASE_MIGRATIONS } from '../modules/releases/migrations/index.js';
import { ROLLOUT_MIGRATIONS } from '../modules/rollouts/migrations/index.js';
import { TELEMETRY_MIGRATIONS } from '../modules/telemetry/migrations/index.js';
import { CORE_MIGRATIONS } from './migrations/index.js';
import { guardTransactions } from './transaction-guard.js';
import { makePrivateDir, makePrivateSqliteFiles } from '../common/private-files.js';

/** The timestamp TypeORM orders migrations by: the last 13 digits of the class name. */
function migrationTimestamp(migration: new () => MigrationInterface): number {
  return Number(/(\d{13})$/.exec(migration.name)?.[1] ?? Number.NaN);
}

/**
 * Every migration of the service, in the order they run (TypeORM's: by timestamp); a feature's later
 * migration may come after another feature's.
 */
export const ALL_MIGRATIONS: Array<new () => MigrationInterface> = [
  ...CORE_MIGRATIONS,
  ...TELEMETRY_MIGRATIONS,
  ...AGENT_MIGRATIONS,
  ...AUDIT_MIGRATIONS,
  ...RELEASE_MIGRATIONS,
  ...ROLLOUT_MIGRATIONS,
  ...API_KEY_MIGRATIONS,
  ...DEVICE_MIGRATIONS,
  ...AUTH_MIGRATIONS,
  ...HOOK_MIGRATIONS,
  ...CONVERSATION_MIGRATIONS,
  ...NOTIFICATION_MIGRATIONS,
  ...ALERT_MIGRATIONS,
].sort((a, b) => migrationTimestamp(a) - migrationTimestamp(b));

/** Creates the configured PostgreSQL schema when missing, so migrations can run into it. */
export async function ensurePostgresSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Replicas booting together race on IF NOT EXISTS; losing that race (unique violation) is fine.
    if ((error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

/** Driver-specific options; the schema always comes from migrations, never from synchronize. */
export function buildDataSourceOptions(config: AppConfig): DataSourceOptions {
  const common = {
    migrations: ALL_MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: ['error' as const],
  };
  if (config.database.type === 'postgres') {
    return {
      ...common,
      type: 'postgres',
      url: config.database.url,
      schema: config.database.schema,
      // Unqualified names in raw SQL resolve to the configured schema too.
      extra: { options: `-c search_path=${config.database.schema}`, max: 10 },
    };
  }
  // The database holds every record of the fleet: the service's user only (docs/operations.md).
  makePrivateDir(dirname(config.database.path));
  makePrivateSqliteFiles(config.database.path);
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.database.path,
    enableWAL: true,
    // Concurrent writers (ingest batches, API) wait for the lock instead of failing with SQLITE_BUSY.
    timeout: 10_000,
    prepareDatabase: (db: { pragma: (sql: string) => unknown }) => {
      db.pragma('synchronous = NORMAL');
    },
  };
}

/** Arbitrary constant naming the advisory lock that serialises migrations across replicas. */
const MIGRATION_LOCK_KEY = 0x61676e74;

/**
 * Opens the data source and runs pending migrations. On PostgreSQL several replicas may boot at once,
 * so migrations run under a session advisory lock: the first replica migrates, the others wait and
 * then find nothing pending. SQLite has one process per file, so TypeORM's migrationsRun suffices.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  if (options.type !== 'postgres') return guarded(new DataSource(options)).initialize();
  const dataSource = await guarded(new DataSource({ ...options, migrationsRun: false })).initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } catch (error) {
    await lock.release();
    await dataSource.destroy();
    throw error;
  }
  await lock.release();
  return dataSource;
}

function guarded(dataSource: DataSource): DataSource {
  guardTransactions(dataSource);
  return dataSource;
}
