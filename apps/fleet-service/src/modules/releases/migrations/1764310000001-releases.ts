import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { PRIMARY, createTable, portableColumns } from '../../../database/migration-helpers.js';

/** Releases of the device agent and the trusted OTA root metadata versions. */
export class Releases1764310000001 implements MigrationInterface {
  name = 'Releases1764310000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portableColumns(queryRunner);
    await createTable(queryRunner, 'releases', [
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
    ]);
    // Two concurrent uploads of one version: the second insert fails, whichever replica it ran on.
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'uq_releases_version', columnNames: ['version'], isUnique: true }),
    );
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'idx_releases_artifact_sha256', columnNames: ['artifact_sha256'] }),
    );
    await createTable(queryRunner, 'ota_roots', [
      c.integer('version', PRIMARY),
      c.json('document'),
      c.varchar('source', 16),
      c.varchar('installed_by', 100),
      c.timestamp('installed_at'),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('ota_roots');
    await queryRunner.dropTable('releases');
  }
}
