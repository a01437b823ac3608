import { NULLABLE, PRIMARY, tablesMigration } from '../../../database/migration-helpers.js';

/** Rollouts of releases, the boxes of each with their status, and every box's update history. */
export const Rollouts1764400000000 = tablesMigration('Rollouts1764400000000', (c) => [
  {
    name: 'rollouts',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.varchar('release_id', 36),
      c.varchar('release_version', 64),
      c.varchar('status', 16),
      c.varchar('pause_reason', 24, NULLABLE),
      c.integer('phase'),
      c.json('phases'),
      c.json('settings'),
      c.varchar('created_by', 100),
      c.bigint('created_at'),
      c.bigint('started_at', NULLABLE),
      c.bigint('ended_at', NULLABLE),
      c.bigint('updated_at'),
    ],
    indices: [
      { name: 'idx_rollouts_status', columnNames: ['status'] },
      { name: 'idx_rollouts_release', columnNames: ['release_id'] },
    ],
  },
  {
    name: 'rollout_devices',
    columns: [
      c.varchar('rollout_id', 36, PRIMARY),
      c.varchar('device_id', 64, PRIMARY),
      c.integer('position'),
      c.varchar('status', 16),
      c.varchar('reason', 32, NULLABLE),
      c.varchar('detail', 2000, NULLABLE),
      c.json('progress', NULLABLE),
      c.integer('attempt'),
      c.bigint('offered_at', NULLABLE),
      c.bigint('updated_at'),
    ],
    indices: [{ name: 'idx_rollout_devices_device', columnNames: ['device_id'] }],
    foreignKeys: [
      {
        columnNames: ['rollout_id'],
        referencedTableName: 'rollouts',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
      },
    ],
  },
  {
    name: 'device_updates',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.varchar('device_id', 64),
      c.varchar('rollout_id', 64),
      c.integer('attempt'),
      c.varchar('version', 64),
      c.varchar('status', 16),
      c.varchar('reason', 32, NULLABLE),
      c.varchar('detail', 2000, NULLABLE),
      c.json('progress', NULLABLE),
      c.varchar('running_version', 64),
      c.bigint('reported_at'),
      c.bigint('received_at'),
      c.boolean('processed'),
    ],
    indices: [
      { name: 'idx_device_updates_device_received', columnNames: ['device_id', 'received_at'] },
      { name: 'idx_device_updates_processed', columnNames: ['processed'] },
    ],
  },
]);
