import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { PRIMARY, createTable, portableColumns } from '../../../database/migration-helpers.js';

/** The audit log of release, root and rollout actions. */
export class Audit1764310000000 implements MigrationInterface {
  name = 'Audit1764310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portableColumns(queryRunner);
    await createTable(queryRunner, 'audit_log', [
      c.varchar('id', 36, PRIMARY),
      c.bigint('at'),
      c.varchar('actor', 100),
      c.varchar('action', 64),
      c.varchar('target_type', 32),
      c.varchar('target_id', 100),
      c.json('detail'),
    ]);
    // The log is read newest first, whole or for one target.
    await queryRunner.createIndex(
      'audit_log',
      new TableIndex({ name: 'idx_audit_log_at', columnNames: ['at'] }),
    );
    await queryRunner.createIndex(
      'audit_log',
      new TableIndex({ name: 'idx_audit_log_target_at', columnNames: ['target_type', 'target_id', 'at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_log');
  }
}
