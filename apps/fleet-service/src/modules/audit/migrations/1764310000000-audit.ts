import { PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** The audit log of release, root and rollout actions. */
export const Audit1764310000000 = tablesMigration('Audit1764310000000', (c) => [
  table('audit_log', {
    columns: {
      id: c.varchar(36, PRIMARY),
      at: c.bigint(),
      actor: c.varchar(100),
      action: c.varchar(64),
      target_type: c.varchar(32),
      target_id: c.varchar(100),
      detail: c.json(),
    },
    // The log is read newest first, whole or for one target.
    indices: [
      { name: 'idx_audit_log_at', columnNames: ['at'] },
      { name: 'idx_audit_log_target_at', columnNames: ['target_type', 'target_id', 'at'] },
    ],
  }),
]);
