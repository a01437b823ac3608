import { TableColumn } from 'typeorm';
import { NULLABLE, defineMigration } from '../../../database/migration-helpers.js';

const ADDED = ['actor_type', 'actor_id', 'outcome', 'status', 'error_code', 'source_address'];

/**
 * Every mutating request is audited, refusals included: who acted (user, API key, claim token, system
 * or nobody known) and their id, how it ended (outcome, HTTP status, error code) and from which address.
 * Entries written before this were all successful actions of users, the rollout engine or API keys.
 */
export const AuditOutcomes1765400000000 = defineMigration('AuditOutcomes1765400000000', {
  async up(queryRunner, c) {
    await queryRunner.addColumns('audit_log', [
      new TableColumn({ name: 'actor_type', ...c.varchar(16, { default: "'user'" }) }),
      new TableColumn({ name: 'actor_id', ...c.varchar(100, NULLABLE) }),
      new TableColumn({ name: 'outcome', ...c.varchar(16, { default: "'success'" }) }),
      new TableColumn({ name: 'status', ...c.integer(NULLABLE) }),
      new TableColumn({ name: 'error_code', ...c.varchar(64, NULLABLE) }),
      new TableColumn({ name: 'source_address', ...c.varchar(64, NULLABLE) }),
    ]);
    await queryRunner.query(`UPDATE audit_log SET actor_type = 'system' WHERE actor = 'system'`);
    await queryRunner.query(
      `UPDATE audit_log SET actor_type = 'api-key' WHERE actor LIKE 'abk\\_%' ESCAPE '\\'`,
    );
  },

  async down(queryRunner) {
    for (const column of ADDED) await queryRunner.dropColumn('audit_log', column);
  },
});
