import { PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** device_spool_marks: per box, how far ingest has followed its spool and the sequence gaps found. */
export const DeviceSpoolMarks1764800000000 = tablesMigration('DeviceSpoolMarks1764800000000', (c) => [
  table('device_spool_marks', {
    columns: {
      device_id: c.varchar(64, PRIMARY),
      epoch: c.varchar(64),
      high: c.bigint(),
      gaps: c.bigint(),
      dropped: c.bigint(),
      updated_at: c.timestamp(),
    },
  }),
]);
