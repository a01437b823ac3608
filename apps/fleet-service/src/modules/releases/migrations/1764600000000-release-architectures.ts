import { TableIndex } from 'typeorm';
import {
  PRIMARY,
  createTables,
  defineMigration,
  dropTables,
  table,
  type PortableColumns,
  type TableDefinition,
} from '../../../database/migration-helpers.js';

interface ExistingRelease {
  id: string;
  version: string;
  manifest: string | { signed?: { compatibility?: { arch?: unknown } } };
}

/** The table this migration creates, and drops again when reverted. */
const tables = (c: PortableColumns): TableDefinition[] => [
  table('release_architectures', {
    columns: { version: c.varchar(64, PRIMARY), arch: c.varchar(16, PRIMARY), release_id: c.varchar(36) },
    indices: [{ name: 'idx_release_architectures_release', columnNames: ['release_id'] }],
  }),
];

/**
 * One version may have a release per architecture: the unique version index gives way to
 * release_architectures (version, arch) -> release, filled from the manifests already stored.
 */
export const ReleaseArchitectures1764600000000 = defineMigration('ReleaseArchitectures1764600000000', {
  async up(queryRunner, c) {
    await createTables(queryRunner, tables(c));
    const rows = (await queryRunner.query('SELECT id, version, manifest FROM releases')) as ExistingRelease[];
    for (const row of rows) {
      // jsonb comes back parsed on PostgreSQL, text on SQLite.
      const manifest =
        typeof row.manifest === 'string'
          ? (JSON.parse(row.manifest) as ExistingRelease['manifest'])
          : row.manifest;
      const arch = typeof manifest === 'object' ? manifest.signed?.compatibility?.arch : undefined;
      for (const name of Array.isArray(arch) ? arch : []) {
        await queryRunner.manager.insert('release_architectures', {
          version: row.version,
          arch: String(name),
          release_id: row.id,
        });
      }
    }
    await queryRunner.dropIndex('releases', 'uq_releases_version');
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'idx_releases_version', columnNames: ['version'] }),
    );
  },

  async down(queryRunner, c) {
    await queryRunner.dropIndex('releases', 'idx_releases_version');
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'uq_releases_version', columnNames: ['version'], isUnique: true }),
    );
    await dropTables(queryRunner, tables(c));
  },
});
