import { NULLABLE, PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** Jobs that deliver a new assignment to its boxes (docs/architecture.md, "Fan-out"). */
export const AssignmentJobs1765300000000 = tablesMigration('AssignmentJobs1765300000000', (c) => [
  table('assignment_jobs', {
    columns: {
      id: c.varchar(36, PRIMARY),
      assignment_id: c.varchar(36),
      agent_id: c.varchar(63),
      target_type: c.varchar(8),
      target_value: c.varchar(64),
      state: c.varchar(8),
      total: c.integer(),
      done: c.integer(),
      failed: c.integer(),
      error: c.text(NULLABLE),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
      finished_at: c.timestamp(NULLABLE),
    },
    indices: [{ name: 'idx_assignment_jobs_assignment', columnNames: ['assignment_id'] }],
  }),
]);
