import {
  PRIMARY,
  createTables,
  defineMigration,
  dropTables,
  table,
  type PortableColumns,
} from '../../../database/migration-helpers.js';

/**
 * Telemetry rollups (docs/operations.md, "Telemetry rollups"): per box and time bucket, each metric's
 * min, max, sum and count, so a chart over weeks reads hundreds of rows instead of a million samples.
 * The marks say how far each resolution has been rolled up; the late spans are samples stored after
 * their bucket was rolled up (a box catching up), to roll up again.
 */
const tables = (c: PortableColumns) => [
  table('telemetry_rollups', {
    columns: {
      device_id: c.varchar(64, PRIMARY),
      bucket_ms: c.integer(PRIMARY),
      bucket_ts: c.bigint(PRIMARY),
      stats: c.json(),
    },
    // Retention deletes one resolution's old buckets across all boxes.
    indices: [{ name: 'idx_telemetry_rollups_age', columnNames: ['bucket_ms', 'bucket_ts'] }],
  }),
  table('telemetry_rollup_marks', {
    columns: {
      bucket_ms: c.integer(PRIMARY),
      done_until: c.bigint(),
    },
  }),
  table('telemetry_rollup_late', {
    columns: {
      device_id: c.varchar(64, PRIMARY),
      from_ts: c.bigint(),
      to_ts: c.bigint(),
    },
  }),
];

/**
 * On PostgreSQL a pass reads one minute of every box's samples by `ts`, which the key (device first)
 * cannot serve: a BRIN index on `ts` finds them at almost no cost to inserts, as samples arrive in time
 * order. SQLite has a B-tree index on `ts` already.
 */
const BRIN = 'idx_telemetry_samples_ts_brin';

export const TelemetryRollups1765500000000 = defineMigration('TelemetryRollups1765500000000', {
  async up(queryRunner, c) {
    await createTables(queryRunner, tables(c));
    if (queryRunner.connection.options.type === 'postgres') {
      await queryRunner.query(`CREATE INDEX ${BRIN} ON telemetry_samples USING brin (ts)`);
    }
  },
  async down(queryRunner, c) {
    if (queryRunner.connection.options.type === 'postgres') await queryRunner.query(`DROP INDEX ${BRIN}`);
    await dropTables(queryRunner, tables(c));
  },
});
