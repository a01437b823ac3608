import { NULLABLE, PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** telemetry_samples, device_events and device_states: the tables the MQTT ingest writes. */
export const TelemetrySamples1764290000000 = tablesMigration('TelemetrySamples1764290000000', (c) => [
  table('telemetry_samples', {
    columns: {
      device_id: c.varchar(64, PRIMARY),
      seq: c.bigint(PRIMARY),
      idx: c.integer(PRIMARY),
      ts: c.bigint(),
      values: c.json(),
    },
    indices: [
      { name: 'idx_telemetry_samples_device_ts', columnNames: ['device_id', 'ts'] },
      // The retention job deletes by age across all boxes.
      { name: 'idx_telemetry_samples_ts', columnNames: ['ts'] },
    ],
  }),
  table('device_events', {
    columns: {
      device_id: c.varchar(64, PRIMARY),
      seq: c.bigint(PRIMARY),
      idx: c.integer(PRIMARY),
      ts: c.bigint(),
      type: c.varchar(100),
      level: c.varchar(8),
      message: c.varchar(2000),
      data: c.json(NULLABLE),
    },
    indices: [
      { name: 'idx_device_events_device_ts', columnNames: ['device_id', 'ts'] },
      { name: 'idx_device_events_ts', columnNames: ['ts'] },
    ],
  }),
  table('device_states', {
    columns: {
      device_id: c.varchar(64, PRIMARY),
      desired_version: c.integer(),
      desired_spec: c.json(),
      desired_at: c.timestamp(),
      reported_seq: c.bigint(NULLABLE),
      reported_version: c.integer(NULLABLE),
      reported: c.json(NULLABLE),
      reported_at: c.timestamp(NULLABLE),
    },
  }),
]);
