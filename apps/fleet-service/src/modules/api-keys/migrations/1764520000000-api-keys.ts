import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { NULLABLE, PRIMARY, createTable, portableColumns } from '../../../database/migration-helpers.js';

/** API keys for automation (the release CLI, scripts): hashed secrets, role, expiry, revocation. */
export class ApiKeys1764520000000 implements MigrationInterface {
  name = 'ApiKeys1764520000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portableColumns(queryRunner);
    await createTable(queryRunner, 'api_keys', [
      c.varchar('id', 16, PRIMARY),
      c.varchar('name', 100),
      c.varchar('role', 16),
      c.varchar('secret_hash', 64),
      c.varchar('created_by', 100),
      c.varchar('created_by_id', 36),
      c.timestamp('created_at'),
      c.timestamp('expires_at', NULLABLE),
      c.timestamp('last_used_at', NULLABLE),
      c.timestamp('revoked_at', NULLABLE),
      c.varchar('revoked_by', 100, NULLABLE),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('api_keys');
  }
}
