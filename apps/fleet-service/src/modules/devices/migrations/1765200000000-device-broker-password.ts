import { TableColumn } from 'typeorm';
import { NULLABLE, defineMigration } from '../../../database/migration-helpers.js';

/**
 * devices.broker_password_sealed: with Mosquitto's dynamic security, the box's broker password sealed
 * with the secrets key (AES-256-GCM, bound to the row), so a client the broker lost can be re-created
 * with the password the box holds. NULL for boxes enrolled without dynamic security or before this.
 */
export const DeviceBrokerPassword1765200000000 = defineMigration('DeviceBrokerPassword1765200000000', {
  async up(queryRunner, c) {
    await queryRunner.addColumn(
      'devices',
      new TableColumn({ name: 'broker_password_sealed', ...c.varchar(512, NULLABLE) }),
    );
  },

  async down(queryRunner) {
    await queryRunner.dropColumn('devices', 'broker_password_sealed');
  },
});
