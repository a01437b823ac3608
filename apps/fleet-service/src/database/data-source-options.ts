import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import type { DataSourceOptions, MigrationInterface } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { TELEMETRY_MIGRATIONS } from '../modules/telemetry/migrations/index.js';
import { CORE_MIGRATIONS } from './migrations/index.js';

/** Every migration of the service, in order: the core tables, then each feature's own. */
export const ALL_MIGRATIONS: Array<new () => MigrationInterface> = [...CORE_MIGRATIONS, ...TELEMETRY_MIGRATIONS];

/** Creates the configured PostgreSQL schema when missing, so migrations can run into it. */
export async function ensurePostgresSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
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
  mkdirSync(dirname(config.database.path), { recursive: true });
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
