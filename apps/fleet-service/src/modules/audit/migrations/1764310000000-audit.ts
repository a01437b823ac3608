import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../../../database/portable-types.js';

/** The audit log of release, root and rollout actions. */
export class Audit1764310000000 implements MigrationInterface {
  name = 'Audit1764310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'at', type: t.bigint },
          { name: 'actor', type: 'varchar', length: '100' },
          { name: 'action', type: 'varchar', length: '64' },
          { name: 'target_type', type: 'varchar', length: '32' },
          { name: 'target_id', type: 'varchar', length: '100' },
          { name: 'detail', type: t.json },
        ],
      }),
    );
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
