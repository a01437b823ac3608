import { TableIndex } from 'typeorm';
import { defineMigration } from '../../../database/migration-helpers.js';

/**
 * A box sends a journaled report again after a restart when it saw no acknowledgement, with its original
 * timestamp: (box, rollout, attempt, status, box time) names one report. Duplicates already stored are
 * dropped (the earliest received is kept) before the index that keeps them out from now on.
 */
export const DeviceUpdateOnce1764700000000 = defineMigration('DeviceUpdateOnce1764700000000', {
  async up(queryRunner) {
    await queryRunner.query(`
      DELETE FROM device_updates WHERE id IN (
        SELECT later.id FROM device_updates later
        JOIN device_updates earlier
          ON earlier.device_id = later.device_id AND earlier.rollout_id = later.rollout_id
          AND earlier.attempt = later.attempt AND earlier.status = later.status
          AND earlier.reported_at = later.reported_at
          AND (earlier.received_at < later.received_at
            OR (earlier.received_at = later.received_at AND earlier.id < later.id))
      )`);
    await queryRunner.createIndex(
      'device_updates',
      new TableIndex({
        name: 'uq_device_updates_report',
        columnNames: ['device_id', 'rollout_id', 'attempt', 'status', 'reported_at'],
        isUnique: true,
      }),
    );
  },

  async down(queryRunner) {
    await queryRunner.dropIndex('device_updates', 'uq_device_updates_report');
  },
});
