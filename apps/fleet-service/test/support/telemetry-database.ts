import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, postgresReachable, randomSchemaName, TEST_POSTGRES_URL } from '@agentbox/test-support';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions, ensurePostgresSchema } from '../../src/database/data-source-options.js';
import { DeviceEventRow } from '../../src/modules/telemetry/device-event.entity.js';
import { TelemetrySampleRow } from '../../src/modules/telemetry/telemetry-sample.entity.js';

export interface OpenedTelemetryDatabase {
  dataSource: DataSource;
  config: AppConfig;
  cleanup(): Promise<void>;
}

export interface TelemetryDriver {
  name: string;
  open(): Promise<OpenedTelemetryDatabase>;
  available(): Promise<boolean>;
}

/** The telemetry tables on `config`'s database, migrated as at boot; `release` runs after the close. */
async function openTelemetryDatabase(
  config: AppConfig,
  release: () => Promise<void>,
): Promise<OpenedTelemetryDatabase> {
  const dataSource = new DataSource({
    ...buildDataSourceOptions(config),
    entities: [TelemetrySampleRow, DeviceEventRow],
  });
  await dataSource.initialize();
  return {
    dataSource,
    config,
    async cleanup() {
      await dataSource.destroy();
      await release();
    },
  };
}

/** A fresh SQLite file, or a fresh schema of the test PostgreSQL (when it is reachable), each migrated. */
export const telemetryDrivers: TelemetryDriver[] = [
  {
    name: 'SQLite',
    available: () => Promise.resolve(true),
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'agentbox-telemetry-'));
      const config = AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dir, AGENTBOX_TELEMETRY_RETENTION_DAYS: '7' });
      return openTelemetryDatabase(config, () =>
        Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      );
    },
  },
  {
    name: 'PostgreSQL',
    available: () => postgresReachable(),
    async open() {
      const schema = randomSchemaName('t_telemetry');
      const config = AppConfig.fromEnv({
        DATABASE_URL: TEST_POSTGRES_URL,
        AGENTBOX_DB_SCHEMA: schema,
        AGENTBOX_TELEMETRY_RETENTION_DAYS: '7',
      });
      await ensurePostgresSchema(TEST_POSTGRES_URL, schema);
      return openTelemetryDatabase(config, () => dropSchema(schema));
    },
  },
];
