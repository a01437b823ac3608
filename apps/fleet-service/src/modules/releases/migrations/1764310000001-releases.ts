import { PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** Releases of the device agent and the trusted OTA root metadata versions. */
export const Releases1764310000001 = tablesMigration('Releases1764310000001', (c) => [
  table('releases', {
    columns: {
      id: c.varchar(36, PRIMARY),
      version: c.varchar(64),
      channel: c.varchar(16),
      status: c.varchar(20),
      manifest: c.json(),
      artifact_sha256: c.varchar(64),
      artifact_size: c.bigint(),
      created_by: c.varchar(100),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
    indices: [
      // Two concurrent uploads of one version: the second insert fails, whichever replica it ran on.
      { name: 'uq_releases_version', columnNames: ['version'], isUnique: true },
      { name: 'idx_releases_artifact_sha256', columnNames: ['artifact_sha256'] },
    ],
  }),
  table('ota_roots', {
    columns: {
      version: c.integer(PRIMARY),
      document: c.json(),
      source: c.varchar(16),
      installed_by: c.varchar(100),
      installed_at: c.timestamp(),
    },
  }),
]);
