import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { useTempDir } from '@agentbox/test-support/vitest';
import { AppConfig } from '../config/app-config.js';
import { buildDataSourceOptions, openDataSource } from './data-source-options.js';
import { DatabaseProbe } from './database-probe.js';

describe('DatabaseProbe', () => {
  const dir = useTempDir('agentbox-probe-');
  let dataSource: DataSource | undefined;

  afterEach(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

  async function open(): Promise<DataSource> {
    const config = AppConfig.fromEnv({ AGENTBOX_DATA_DIR: dir.path });
    dataSource = await openDataSource({ ...buildDataSourceOptions(config), entities: [] });
    return dataSource;
  }

  it('says not writable while the database answers reads and refuses writes', async () => {
    const db = await open();
    const probe = new DatabaseProbe(db);
    expect(await probe.writable()).toBe(true);
    await db.query('PRAGMA query_only = ON');
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await probe.writable()).toBe(false);
    await db.query('PRAGMA query_only = OFF');
    expect(await probe.writable()).toBe(true);
  });

  it('commits its own write: it waits for a transaction another caller holds open instead of joining it', async () => {
    const db = await open();
    const probe = new DatabaseProbe(db);
    let release!: () => void;
    let entered!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holding = db.transaction(async (manager) => {
      await manager.query('SELECT 1');
      entered();
      await held;
    });
    await inside;
    // The transaction stays open past the probe's 2 s: the probe cannot commit, so it says no.
    expect(await probe.writable()).toBe(false);
    release();
    await holding;
    expect(await probe.writable()).toBe(true);
  });

  it('says not writable once the data source is closed', async () => {
    const db = await open();
    await db.destroy();
    expect(await new DatabaseProbe(db).writable()).toBe(false);
  });
});
