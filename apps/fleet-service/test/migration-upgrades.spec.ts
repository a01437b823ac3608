import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataSource, type MigrationInterface } from 'typeorm';
import { dropSchema, postgresReachable, randomSchemaName, TEST_POSTGRES_URL } from '@agentbox/test-support';
import { AppConfig } from '../src/config/app-config.js';
import {
  ALL_MIGRATIONS,
  buildDataSourceOptions,
  ensurePostgresSchema,
} from '../src/database/data-source-options.js';
import { AuditOutcomes1765400000000 } from '../src/modules/audit/migrations/1765400000000-audit-outcomes.js';
import { ReleaseArchitectures1764600000000 } from '../src/modules/releases/migrations/1764600000000-release-architectures.js';
import { DeviceUpdateOnce1764700000000 } from '../src/modules/rollouts/migrations/1764700000000-device-update-once.js';

const pgReachable = await postgresReachable();
const engines = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: !pgReachable },
] as const;

/**
 * A database migrated up to just before `migration`, filled by `seed` as the previous version would
 * have left it, then started with every migration; `check` reads the upgraded database.
 */
async function upgradeAcross(
  engine: (typeof engines)[number]['name'],
  migration: new () => MigrationInterface,
  seed: (db: DataSource) => Promise<void>,
  check: (db: DataSource) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-migration-upgrade-'));
  const schema = randomSchemaName('agentbox_upgrade');
  const config = AppConfig.fromEnv({
    AGENTBOX_DATA_DIR: dir,
    ...(engine === 'postgres' ? { DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: schema } : {}),
  });
  try {
    if (config.database.type === 'postgres') await ensurePostgresSchema(config.database.url, schema);
    const old = new DataSource({
      ...buildDataSourceOptions(config),
      migrations: ALL_MIGRATIONS.filter((candidate) => candidate !== migration),
    });
    await old.initialize();
    try {
      await seed(old);
    } finally {
      await old.destroy();
    }
    const upgraded = new DataSource({ ...buildDataSourceOptions(config), logging: false });
    await upgraded.initialize();
    try {
      await check(upgraded);
    } finally {
      await upgraded.destroy();
    }
  } finally {
    if (engine === 'postgres') await dropSchema(schema);
    rmSync(dir, { recursive: true, force: true });
  }
}

const insert = (db: DataSource, table: string, values: Record<string, unknown>) =>
  db.createQueryBuilder().insert().into(table).values(values).execute();

describe.each(engines)('upgrading a database ($name)', ({ name, skip }) => {
  it.skipIf(skip)('release architectures: each release stored keeps its architectures', async () => {
    const now = new Date();
    await upgradeAcross(
      name,
      ReleaseArchitectures1764600000000,
      async (db) => {
        for (const [id, version, arch] of [
          ['11111111-1111-4111-8111-111111111111', '1.0.0', ['x64', 'arm64']],
          ['22222222-2222-4222-8222-222222222222', '1.1.0', ['arm64']],
        ] as const) {
          await insert(db, 'releases', {
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
          });
        }
      },
      async (db) => {
        const rows = await db.query<Array<{ version: string; arch: string; release_id: string }>>(
          'SELECT version, arch, release_id FROM release_architectures ORDER BY version, arch',
        );
        expect(rows).toEqual([
          { version: '1.0.0', arch: 'arm64', release_id: '11111111-1111-4111-8111-111111111111' },
          { version: '1.0.0', arch: 'x64', release_id: '11111111-1111-4111-8111-111111111111' },
          { version: '1.1.0', arch: 'arm64', release_id: '22222222-2222-4222-8222-222222222222' },
        ]);
        // One version, another architecture: allowed now; the same architecture again: refused.
        const build = (arch: string, id: string) =>
          insert(db, 'release_architectures', { version: '1.1.0', arch, release_id: id });
        await build('x64', '33333333-3333-4333-8333-333333333333');
        await expect(build('arm64', '44444444-4444-4444-8444-444444444444')).rejects.toThrow();
      },
    );
  });

  it.skipIf(skip)('box update reports: a report stored twice is kept once, the earliest', async () => {
    const report = (id: string, status: string, reportedAt: number, receivedAt: number) => ({
      id,
      device_id: 'box-1',
      rollout_id: 'r-1',
      attempt: 1,
      version: '2.0.0',
      status,
      running_version: '1.0.0',
      reported_at: reportedAt,
      received_at: receivedAt,
      processed: true,
    });
    await upgradeAcross(
      name,
      DeviceUpdateOnce1764700000000,
      async (db) => {
        await insert(db, 'device_updates', report('a', 'downloaded', 1_000, 1_100));
        await insert(db, 'device_updates', report('b', 'downloaded', 1_000, 1_500)); // sent again
        await insert(db, 'device_updates', report('c', 'downloaded', 2_000, 2_100)); // reported again, later
        await insert(db, 'device_updates', report('d', 'rebooting', 1_000, 1_100));
      },
      async (db) => {
        const rows = await db.query<Array<{ id: string }>>('SELECT id FROM device_updates ORDER BY id');
        expect(rows.map((row) => row.id)).toEqual(['a', 'c', 'd']);
        await expect(insert(db, 'device_updates', report('e', 'downloaded', 1_000, 9_000))).rejects.toThrow();
      },
    );
  });

  it.skipIf(skip)(
    'audit outcomes: entries kept are successes of their user, key or the service',
    async () => {
      const entry = (id: string, actor: string) => ({
        id,
        at: 1_000,
        actor,
        action: 'release.created',
        target_type: 'release',
        target_id: 'r-1',
        detail: '{}',
      });
      await upgradeAcross(
        name,
        AuditOutcomes1765400000000,
        async (db) => {
          await insert(db, 'audit_log', entry('a', 'admin'));
          await insert(db, 'audit_log', entry('b', 'system'));
          await insert(db, 'audit_log', entry('c', 'abk_aaaaaaaaaaaa'));
          // `_` is no wildcard: a user whose name merely starts with abk stays a user.
          await insert(db, 'audit_log', entry('d', 'abkxuser'));
        },
        async (db) => {
          const rows = await db.query<Array<Record<string, unknown>>>(
            'SELECT id, actor_type, actor_id, outcome, status, source_address FROM audit_log ORDER BY id',
          );
          expect(rows.map((row) => [row.id, row.actor_type, row.outcome])).toEqual([
            ['a', 'user', 'success'],
            ['b', 'system', 'success'],
            ['c', 'api-key', 'success'],
            ['d', 'user', 'success'],
          ]);
          expect(rows.every((row) => row.status === null && row.source_address === null)).toBe(true);
        },
      );
    },
  );
});
