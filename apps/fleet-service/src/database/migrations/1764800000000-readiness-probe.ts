import { PRIMARY, table, tablesMigration } from '../migration-helpers.js';

/** One row that the readiness probe writes: `/readyz` says the database is up only when it takes a write. */
export const ReadinessProbe1764800000000 = tablesMigration('ReadinessProbe1764800000000', (c) => [
  table('readiness_probe', {
    columns: {
      id: c.integer(PRIMARY),
      checked_at: c.bigint(),
    },
  }),
]);
