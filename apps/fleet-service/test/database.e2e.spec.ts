import { afterAll, describe, expect, it } from 'vitest';
import { dropSchema, postgresReachable, randomSchemaName, TEST_POSTGRES_URL } from '@agentbox/test-support';
import { AppConfig } from '../src/config/app-config.js';
import {
  ALL_MIGRATIONS,
  buildDataSourceOptions,
  ensurePostgresSchema,
  openDataSource,
} from '../src/database/data-source-options.js';
import { Device } from '../src/modules/devices/device.entity.js';

const pgReachable = await postgresReachable();

describe.skipIf(!pgReachable)('PostgreSQL migrations', () => {
  const schema = randomSchemaName('agentbox_mig');

  afterAll(() => dropSchema(schema));

  it('lets several replicas boot at once on a fresh schema: one migrates, the others wait', async () => {
    const config = AppConfig.fromEnv({
      DATABASE_URL: TEST_POSTGRES_URL,
      AGENTBOX_DB_SCHEMA: schema,
      AGENTBOX_DATA_DIR: '/tmp',
    });
    if (config.database.type !== 'postgres') throw new Error('expected postgres');
    const { url } = config.database;
    const replicas = await Promise.all(
      Array.from({ length: 3 }, async () => {
        await ensurePostgresSchema(url, schema);
        return openDataSource({ ...buildDataSourceOptions(config), entities: [Device] });
      }),
    );
    try {
      const applied = await replicas[0]!.query<Array<{ name: string }>>(
        `SELECT name FROM "${schema}".migrations ORDER BY id`,
      );
      expect(applied.map((row) => row.name)).toEqual(ALL_MIGRATIONS.map((m) => new m().name ?? m.name));
      const tables = await replicas[1]!.query<Array<{ table_name: string }>>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      );
      expect(tables.map((row) => row.table_name)).toEqual(
        expect.arrayContaining(['claim_tokens', 'devices', 'users']),
      );
      expect(await replicas[2]!.getRepository(Device).count()).toBe(0);
    } finally {
      await Promise.all(replicas.map((replica) => replica.destroy()));
    }
  });
});
