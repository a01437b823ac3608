import { PRIMARY, tablesMigration } from '../../../database/migration-helpers.js';

/** Releases of the device agent and the trusted OTA root metadata versions. */
export const Releases1764310000001 = tablesMigration('Releases1764310000001', (c) => [
  {
    name: 'releases',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.varchar('version', 64),
      c.varchar('channel', 16),
      c.varchar('status', 20),
      c.json('manifest'),
      c.varchar('artifact_sha256', 64),
      c.bigint('artifact_size'),
      c.varchar('created_by', 100),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ],
    indices: [
      // Two concurrent uploads of one version: the second insert fails, whichever replica it ran on.
      { name: 'uq_releases_version', columnNames: ['version'], isUnique: true },
      { name: 'idx_releases_artifact_sha256', columnNames: ['artifact_sha256'] },
    ],
  },
  {
    name: 'ota_roots',
    columns: [
      c.integer('version', PRIMARY),
      c.json('document'),
      c.varchar('source', 16),
      c.varchar('installed_by', 100),
      c.timestamp('installed_at'),
    ],
  },
]);
