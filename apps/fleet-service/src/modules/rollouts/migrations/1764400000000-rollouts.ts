import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../../../database/portable-types.js';

/** Rollouts of releases, the boxes of each with their status, and every box's update history. */
export class Rollouts1764400000000 implements MigrationInterface {
  name = 'Rollouts1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'rollouts',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'release_id', type: 'varchar', length: '36' },
          { name: 'release_version', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'pause_reason', type: 'varchar', length: '24', isNullable: true },
          { name: 'phase', type: 'integer' },
          { name: 'phases', type: t.json },
          { name: 'settings', type: t.json },
          { name: 'created_by', type: 'varchar', length: '100' },
          { name: 'created_at', type: t.bigint },
          { name: 'started_at', type: t.bigint, isNullable: true },
          { name: 'ended_at', type: t.bigint, isNullable: true },
          { name: 'updated_at', type: t.bigint },
        ],
      }),
    );
    await queryRunner.createIndex(
      'rollouts',
      new TableIndex({ name: 'idx_rollouts_status', columnNames: ['status'] }),
    );
    await queryRunner.createIndex(
      'rollouts',
      new TableIndex({ name: 'idx_rollouts_release', columnNames: ['release_id'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'rollout_devices',
        columns: [
          { name: 'rollout_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'device_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'position', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'reason', type: 'varchar', length: '32', isNullable: true },
          { name: 'detail', type: 'varchar', length: '2000', isNullable: true },
          { name: 'progress', type: t.json, isNullable: true },
          { name: 'attempt', type: 'integer' },
          { name: 'offered_at', type: t.bigint, isNullable: true },
          { name: 'updated_at', type: t.bigint },
        ],
        foreignKeys: [
          {
            columnNames: ['rollout_id'],
            referencedTableName: 'rollouts',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'rollout_devices',
      new TableIndex({ name: 'idx_rollout_devices_device', columnNames: ['device_id'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'device_updates',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'device_id', type: 'varchar', length: '64' },
          { name: 'rollout_id', type: 'varchar', length: '64' },
          { name: 'attempt', type: 'integer' },
          { name: 'version', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'reason', type: 'varchar', length: '32', isNullable: true },
          { name: 'detail', type: 'varchar', length: '2000', isNullable: true },
          { name: 'progress', type: t.json, isNullable: true },
          { name: 'running_version', type: 'varchar', length: '64' },
          { name: 'reported_at', type: t.bigint },
          { name: 'received_at', type: t.bigint },
          { name: 'processed', type: t.boolean },
        ],
      }),
    );
    await queryRunner.createIndex(
      'device_updates',
      new TableIndex({
        name: 'idx_device_updates_device_received',
        columnNames: ['device_id', 'received_at'],
      }),
    );
    await queryRunner.createIndex(
      'device_updates',
      new TableIndex({ name: 'idx_device_updates_processed', columnNames: ['processed'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('device_updates');
    await queryRunner.dropTable('rollout_devices');
    await queryRunner.dropTable('rollouts');
  }
}
