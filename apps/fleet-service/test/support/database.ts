import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../src/config/app-config.js';
import { buildDataSourceOptions } from '../../src/database/data-source-options.js';
import { User } from '../../src/modules/auth/user.entity.js';
import { Device } from '../../src/modules/devices/device.entity.js';
import { ClaimToken } from '../../src/modules/provisioning/claim-token.entity.js';
import { lateBound, setUp } from './late-bound.js';

export interface TestDatabase {
  dataSource: DataSource;
  config: AppConfig;
  dataDir: string;
  close(): Promise<void>;
}

/** A real SQLite file in a fresh temp dir, migrated exactly as at boot. */
export async function openTestDatabase(
  env: Record<string, string> = {},
  extraEntities: Array<new () => object> = [],
): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentbox-fleet-test-'));
  const config = AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dataDir, ...env });
  const dataSource = new DataSource({
    ...buildDataSourceOptions(config),
    entities: [User, Device, ClaimToken, ...extraEntities],
  });
  await dataSource.initialize();
  return {
    dataSource,
    config,
    dataDir,
    close: async () => {
      await dataSource.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh test database (openTestDatabase) for each test of the enclosing describe block, opened in
 * beforeEach and closed after the block's own afterEach hooks; it reads through to the open one.
 */
export function useTestDatabase(
  env: Record<string, string> = {},
  extraEntities: Array<new () => object> = [],
): Omit<TestDatabase, 'close'> {
  let db: TestDatabase | undefined;
  beforeEach(async () => {
    db = await openTestDatabase(env, extraEntities);
  });
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });
  return lateBound(() => setUp(db, 'The test database'));
}
