import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../../../database/portable-types.js';

/** telemetry_samples, device_events and device_states: the tables the MQTT ingest writes. */
export class TelemetrySamples1764290000000 implements MigrationInterface {
  name = 'TelemetrySamples1764290000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'telemetry_samples',
        columns: [
          { name: 'device_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'seq', type: t.bigint, isPrimary: true },
          { name: 'idx', type: 'integer', isPrimary: true },
          { name: 'ts', type: t.bigint },
          { name: 'values', type: t.json },
        ],
      }),
    );
    await queryRunner.createIndex(
      'telemetry_samples',
      new TableIndex({ name: 'idx_telemetry_samples_device_ts', columnNames: ['device_id', 'ts'] }),
    );
    // The retention job deletes by age across all boxes.
    await queryRunner.createIndex(
      'telemetry_samples',
      new TableIndex({ name: 'idx_telemetry_samples_ts', columnNames: ['ts'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'device_events',
        columns: [
          { name: 'device_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'seq', type: t.bigint, isPrimary: true },
          { name: 'idx', type: 'integer', isPrimary: true },
          { name: 'ts', type: t.bigint },
          { name: 'type', type: 'varchar', length: '100' },
          { name: 'level', type: 'varchar', length: '8' },
          { name: 'message', type: 'varchar', length: '2000' },
          { name: 'data', type: t.json, isNullable: true },
        ],
      }),
    );
    await queryRunner.createIndex(
      'device_events',
      new TableIndex({ name: 'idx_device_events_device_ts', columnNames: ['device_id', 'ts'] }),
    );
    await queryRunner.createIndex(
      'device_events',
      new TableIndex({ name: 'idx_device_events_ts', columnNames: ['ts'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'device_states',
        columns: [
          { name: 'device_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'desired_version', type: 'integer' },
          { name: 'desired_spec', type: t.json },
          { name: 'desired_at', type: t.timestamp },
          { name: 'reported_seq', type: t.bigint, isNullable: true },
          { name: 'reported_version', type: 'integer', isNullable: true },
          { name: 'reported', type: t.json, isNullable: true },
          { name: 'reported_at', type: t.timestamp, isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('device_states');
    await queryRunner.dropTable('device_events');
    await queryRunner.dropTable('telemetry_samples');
  }
}
