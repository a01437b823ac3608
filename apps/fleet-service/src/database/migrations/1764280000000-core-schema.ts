import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../portable-types.js';

/** Users, devices and claim tokens; written once for SQLite and PostgreSQL through portableTypes. */
export class CoreSchema1764280000000 implements MigrationInterface {
  name = 'CoreSchema1764280000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'username', type: 'varchar', length: '100', isUnique: true },
          { name: 'password_hash', type: 'varchar', length: '255' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'devices',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'hardware_id', type: 'varchar', length: '128', isUnique: true },
          { name: 'secret_hash', type: 'varchar', length: '255' },
          { name: 'tags', type: t.json },
          { name: 'agent_version', type: 'varchar', length: '64', isNullable: true },
          { name: 'hardware', type: t.json, isNullable: true },
          { name: 'capabilities', type: t.json },
          { name: 'metrics', type: t.json },
          { name: 'online', type: t.boolean, default: false },
          { name: 'last_seen_at', type: t.timestamp, isNullable: true },
          { name: 'connected_at', type: t.timestamp, isNullable: true },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    await queryRunner.createIndex(
      'devices',
      new TableIndex({ name: 'idx_devices_name', columnNames: ['name'] }),
    );
    await queryRunner.createIndex(
      'devices',
      new TableIndex({ name: 'idx_devices_last_seen_at', columnNames: ['last_seen_at'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'claim_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'token_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'expires_at', type: t.timestamp },
          { name: 'max_uses', type: 'integer' },
          { name: 'uses', type: 'integer', default: 0 },
          { name: 'note', type: 'varchar', length: '200', isNullable: true },
          { name: 'created_by', type: 'varchar', length: '100' },
          { name: 'created_at', type: t.timestamp },
          { name: 'revoked_at', type: t.timestamp, isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('claim_tokens');
    await queryRunner.dropTable('devices');
    await queryRunner.dropTable('users');
  }
}
