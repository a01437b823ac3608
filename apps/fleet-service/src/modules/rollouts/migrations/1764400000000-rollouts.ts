import { NULLABLE, PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** Rollouts of releases, the boxes of each with their status, and every box's update history. */
export const Rollouts1764400000000 = tablesMigration('Rollouts1764400000000', (c) => [
  table('rollouts', {
    columns: {
      id: c.varchar(36, PRIMARY),
      release_id: c.varchar(36),
      release_version: c.varchar(64),
      status: c.varchar(16),
      pause_reason: c.varchar(24, NULLABLE),
      phase: c.integer(),
      phases: c.json(),
      settings: c.json(),
      created_by: c.varchar(100),
      created_at: c.bigint(),
      started_at: c.bigint(NULLABLE),
      ended_at: c.bigint(NULLABLE),
      updated_at: c.bigint(),
    },
    indices: [
      { name: 'idx_rollouts_status', columnNames: ['status'] },
      { name: 'idx_rollouts_release', columnNames: ['release_id'] },
    ],
  }),
  table('rollout_devices', {
    columns: {
      rollout_id: c.varchar(36, PRIMARY),
      device_id: c.varchar(64, PRIMARY),
      position: c.integer(),
      status: c.varchar(16),
      reason: c.varchar(32, NULLABLE),
      detail: c.varchar(2000, NULLABLE),
      progress: c.json(NULLABLE),
      attempt: c.integer(),
      offered_at: c.bigint(NULLABLE),
      updated_at: c.bigint(),
    },
    indices: [{ name: 'idx_rollout_devices_device', columnNames: ['device_id'] }],
    foreignKeys: [
      {
        columnNames: ['rollout_id'],
        referencedTableName: 'rollouts',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
      },
    ],
  }),
  table('device_updates', {
    columns: {
      id: c.varchar(36, PRIMARY),
      device_id: c.varchar(64),
      rollout_id: c.varchar(64),
      attempt: c.integer(),
      version: c.varchar(64),
      status: c.varchar(16),
      reason: c.varchar(32, NULLABLE),
      detail: c.varchar(2000, NULLABLE),
      progress: c.json(NULLABLE),
      running_version: c.varchar(64),
      reported_at: c.bigint(),
      received_at: c.bigint(),
      processed: c.boolean(),
    },
    indices: [
      { name: 'idx_device_updates_device_received', columnNames: ['device_id', 'received_at'] },
      { name: 'idx_device_updates_processed', columnNames: ['processed'] },
    ],
  }),
]);
