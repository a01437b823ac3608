import { NULLABLE, PRIMARY, tablesMigration } from '../../../database/migration-helpers.js';

/** telemetry_samples, device_events and device_states: the tables the MQTT ingest writes. */
export const TelemetrySamples1764290000000 = tablesMigration('TelemetrySamples1764290000000', (c) => [
  {
    name: 'telemetry_samples',
    columns: [
      c.varchar('device_id', 64, PRIMARY),
      c.bigint('seq', PRIMARY),
      c.integer('idx', PRIMARY),
      c.bigint('ts'),
      c.json('values'),
    ],
    indices: [
      { name: 'idx_telemetry_samples_device_ts', columnNames: ['device_id', 'ts'] },
      // The retention job deletes by age across all boxes.
      { name: 'idx_telemetry_samples_ts', columnNames: ['ts'] },
    ],
  },
  {
    name: 'device_events',
    columns: [
      c.varchar('device_id', 64, PRIMARY),
      c.bigint('seq', PRIMARY),
      c.integer('idx', PRIMARY),
      c.bigint('ts'),
      c.varchar('type', 100),
      c.varchar('level', 8),
      c.varchar('message', 2000),
      c.json('data', NULLABLE),
    ],
    indices: [
      { name: 'idx_device_events_device_ts', columnNames: ['device_id', 'ts'] },
      { name: 'idx_device_events_ts', columnNames: ['ts'] },
    ],
  },
  {
    name: 'device_states',
    columns: [
      c.varchar('device_id', 64, PRIMARY),
      c.integer('desired_version'),
      c.json('desired_spec'),
      c.timestamp('desired_at'),
      c.bigint('reported_seq', NULLABLE),
      c.integer('reported_version', NULLABLE),
      c.json('reported', NULLABLE),
      c.timestamp('reported_at', NULLABLE),
    ],
  },
]);
