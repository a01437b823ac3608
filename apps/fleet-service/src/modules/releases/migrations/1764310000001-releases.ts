import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../../../database/portable-types.js';

/** Releases of the device agent and the trusted OTA root metadata versions. */
export class Releases1764310000001 implements MigrationInterface {
  name = 'Releases1764310000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'releases',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'version', type: 'varchar', length: '64' },
          { name: 'channel', type: 'varchar', length: '16' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'manifest', type: t.json },
          { name: 'artifact_sha256', type: 'varchar', length: '64' },
          { name: 'artifact_size', type: t.bigint },
          { name: 'created_by', type: 'varchar', length: '100' },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    // Two concurrent uploads of one version: the second insert fails, whichever replica it ran on.
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'uq_releases_version', columnNames: ['version'], isUnique: true }),
    );
    await queryRunner.createIndex(
      'releases',
      new TableIndex({ name: 'idx_releases_artifact_sha256', columnNames: ['artifact_sha256'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'ota_roots',
        columns: [
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'document', type: t.json },
          { name: 'source', type: 'varchar', length: '16' },
          { name: 'installed_by', type: 'varchar', length: '100' },
          { name: 'installed_at', type: t.timestamp },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('ota_roots');
    await queryRunner.dropTable('releases');
  }
}
