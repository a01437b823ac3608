import { TableColumn } from 'typeorm';
import { NULLABLE, defineMigration } from '../../../database/migration-helpers.js';

/**
 * users.disabled_at (NULL while the user may sign in) and users.session_version, which access tokens
 * carry so that raising it ends the sessions issued before (a password reset or change).
 */
export const UserStates1765400000000 = defineMigration('UserStates1765400000000', {
  async up(queryRunner, c) {
    await queryRunner.addColumn('users', new TableColumn({ name: 'disabled_at', ...c.timestamp(NULLABLE) }));
    await queryRunner.addColumn(
      'users',
      new TableColumn({ name: 'session_version', ...c.integer({ default: 0 }) }),
    );
  },

  async down(queryRunner) {
    await queryRunner.dropColumn('users', 'session_version');
    await queryRunner.dropColumn('users', 'disabled_at');
  },
});
