import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../../../database/portable-types.js';

/** API keys for automation (the release CLI, scripts): hashed secrets, role, expiry, revocation. */
export class ApiKeys1764520000000 implements MigrationInterface {
  name = 'ApiKeys1764520000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '16', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'role', type: 'varchar', length: '16' },
          { name: 'secret_hash', type: 'varchar', length: '64' },
          { name: 'created_by', type: 'varchar', length: '100' },
          { name: 'created_by_id', type: 'varchar', length: '36' },
          { name: 'created_at', type: t.timestamp },
          { name: 'expires_at', type: t.timestamp, isNullable: true },
          { name: 'last_used_at', type: t.timestamp, isNullable: true },
          { name: 'revoked_at', type: t.timestamp, isNullable: true },
          { name: 'revoked_by', type: 'varchar', length: '100', isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('api_keys');
  }
}
