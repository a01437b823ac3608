import { PRIMARY, tablesMigration } from '../../../database/migration-helpers.js';

/** The audit log of release, root and rollout actions. */
export const Audit1764310000000 = tablesMigration('Audit1764310000000', (c) => [
  {
    name: 'audit_log',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.bigint('at'),
      c.varchar('actor', 100),
      c.varchar('action', 64),
      c.varchar('target_type', 32),
      c.varchar('target_id', 100),
      c.json('detail'),
    ],
    // The log is read newest first, whole or for one target.
    indices: [
      { name: 'idx_audit_log_at', columnNames: ['at'] },
      { name: 'idx_audit_log_target_at', columnNames: ['target_type', 'target_id', 'at'] },
    ],
  },
]);
