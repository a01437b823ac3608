import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { NULLABLE, PRIMARY, createTable, portableColumns } from '../../../database/migration-helpers.js';

/** telemetry_samples, device_events and device_states: the tables the MQTT ingest writes. */
export class TelemetrySamples1764290000000 implements MigrationInterface {
  name = 'TelemetrySamples1764290000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portableColumns(queryRunner);
    await createTable(
      queryRunner,
      'telemetry_samples',
      [
        c.varchar('device_id', 64, PRIMARY),
        c.bigint('seq', PRIMARY),
        c.integer('idx', PRIMARY),
        c.bigint('ts'),
        c.json('values'),
      ],
      { indices: [{ name: 'idx_telemetry_samples_device_ts', columnNames: ['device_id', 'ts'] }] },
    );
    // The retention job deletes by age across all boxes.
    await queryRunner.createIndex(
      'telemetry_samples',
      new TableIndex({ name: 'idx_telemetry_samples_ts', columnNames: ['ts'] }),
    );

    await createTable(
      queryRunner,
      'device_events',
      [
        c.varchar('device_id', 64, PRIMARY),
        c.bigint('seq', PRIMARY),
        c.integer('idx', PRIMARY),
        c.bigint('ts'),
        c.varchar('type', 100),
        c.varchar('level', 8),
        c.varchar('message', 2000),
        c.json('data', NULLABLE),
      ],
      {
        indices: [
          { name: 'idx_device_events_device_ts', columnNames: ['device_id', 'ts'] },
          { name: 'idx_device_events_ts', columnNames: ['ts'] },
        ],
      },
    );

    await createTable(queryRunner, 'device_states', [
      c.varchar('device_id', 64, PRIMARY),
      c.integer('desired_version'),
      c.json('desired_spec'),
      c.timestamp('desired_at'),
      c.bigint('reported_seq', NULLABLE),
      c.integer('reported_version', NULLABLE),
      c.json('reported', NULLABLE),
      c.timestamp('reported_at', NULLABLE),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('device_states');
    await queryRunner.dropTable('device_events');
    await queryRunner.dropTable('telemetry_samples');
  }
}
