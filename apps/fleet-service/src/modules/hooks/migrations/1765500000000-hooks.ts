import { NULLABLE, PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** Webhooks relayed to agents on boxes, their queued deliveries and the signatures seen (docs/protocol.md, "Hooks"). */
export const Hooks1765500000000 = tablesMigration('Hooks1765500000000', (c) => [
  table('hooks', {
    columns: {
      id: c.varchar(16, PRIMARY),
      name: c.varchar(100),
      agent_id: c.varchar(63),
      device_id: c.varchar(64),
      secret_sealed: c.text(),
      delivery_ttl_sec: c.integer(),
      created_by: c.varchar(100),
      created_at: c.timestamp(),
      secret_rotated_at: c.timestamp(),
      last_invoked_at: c.timestamp(NULLABLE),
    },
  }),
  table('hook_deliveries', {
    columns: {
      id: c.varchar(36, PRIMARY),
      hook_id: c.varchar(16),
      agent_id: c.varchar(63),
      device_id: c.varchar(64),
      status: c.varchar(16),
      input: c.text(),
      attempts: c.integer(),
      created_at: c.timestamp(),
      expires_at: c.timestamp(),
      claimed_at: c.timestamp(NULLABLE),
      delivered_at: c.timestamp(NULLABLE),
      run_id: c.varchar(64, NULLABLE),
      error: c.text(NULLABLE),
    },
    indices: [
      { name: 'idx_hook_deliveries_device_status', columnNames: ['device_id', 'status'] },
      { name: 'idx_hook_deliveries_hook_created', columnNames: ['hook_id', 'created_at'] },
    ],
  }),
  table('hook_signatures', {
    columns: {
      key: c.varchar(100, PRIMARY),
      seen_at: c.timestamp(),
    },
  }),
]);
