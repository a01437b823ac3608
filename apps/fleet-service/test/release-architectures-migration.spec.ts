import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { dropSchema, postgresReachable, randomSchemaName, TEST_POSTGRES_URL } from '@agentbox/test-support';
import { AppConfig } from '../src/config/app-config.js';
import {
  ALL_MIGRATIONS,
  buildDataSourceOptions,
  ensurePostgresSchema,
} from '../src/database/data-source-options.js';
import { ReleaseArchitectures1764600000000 } from '../src/modules/releases/migrations/1764600000000-release-architectures.js';

const pgReachable = await postgresReachable();
const dir = mkdtempSync(join(tmpdir(), 'agentbox-release-arch-mig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases = [
  { name: 'sqlite', skip: false, env: () => ({ AGENTBOX_DATA_DIR: dir }), teardown: () => Promise.resolve() },
  {
    name: 'postgres',
    skip: !pgReachable,
    schema: randomSchemaName('agentbox_release_arch'),
    env(this: { schema: string }) {
      return { AGENTBOX_DATA_DIR: dir, DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: this.schema };
    },
    teardown(this: { schema: string }) {
      return dropSchema(this.schema);
    },
  },
];

describe.each(cases)('release architectures migration ($name)', (driver) => {
  afterAll(() => driver.teardown.call(driver as never));

  it.skipIf(driver.skip)(
    'upgrades a database holding releases: each release keeps its architectures',
    async () => {
      const config = AppConfig.fromEnv(driver.env.call(driver as never));
      if (config.database.type === 'postgres')
        await ensurePostgresSchema(config.database.url, config.database.schema);
      const before = ALL_MIGRATIONS.filter((migration) => migration !== ReleaseArchitectures1764600000000);
      const old = new DataSource({ ...buildDataSourceOptions(config), migrations: before });
      await old.initialize();
      const now = new Date();
      for (const [id, version, arch] of [
        ['11111111-1111-4111-8111-111111111111', '1.0.0', ['x64', 'arm64']],
        ['22222222-2222-4222-8222-222222222222', '1.1.0', ['arm64']],
      ] as const) {
        await old
          .createQueryBuilder()
          .insert()
          .into('releases')
          .values({
            id,
            version,
            channel: 'stable',
            status: 'ready',
            manifest: JSON.stringify({ signed: { version, compatibility: { arch } }, signatures: [] }),
            artifact_sha256: 'a'.repeat(64),
            artifact_size: 10,
            created_by: 'admin',
            created_at: now,
            updated_at: now,
          })
          .execute();
      }
      await old.destroy();

      const upgraded = new DataSource({ ...buildDataSourceOptions(config), logging: false });
      await upgraded.initialize();
      try {
        const rows = await upgraded.query<Array<{ version: string; arch: string; release_id: string }>>(
          'SELECT version, arch, release_id FROM release_architectures ORDER BY version, arch',
        );
        expect(rows).toEqual([
          { version: '1.0.0', arch: 'arm64', release_id: '11111111-1111-4111-8111-111111111111' },
          { version: '1.0.0', arch: 'x64', release_id: '11111111-1111-4111-8111-111111111111' },
          { version: '1.1.0', arch: 'arm64', release_id: '22222222-2222-4222-8222-222222222222' },
        ]);
        // One version, another architecture: allowed now; the same architecture again: refused.
        const insert = (arch: string, id: string) =>
          upgraded
            .createQueryBuilder()
            .insert()
            .into('release_architectures')
            .values({ version: '1.1.0', arch, release_id: id })
            .execute();
        await insert('x64', '33333333-3333-4333-8333-333333333333');
        await expect(insert('arm64', '44444444-4444-4444-8444-444444444444')).rejects.toThrow();
      } finally {
        await upgraded.destroy();
      }
    },
  );
});
