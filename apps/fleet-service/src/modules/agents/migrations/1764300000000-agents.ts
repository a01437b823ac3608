import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { NULLABLE, PRIMARY, createTable, portableColumns } from '../../../database/migration-helpers.js';

/**
 * Agents, their versions, model providers (API keys encrypted), assignments, and what boxes report
 * about them: runs, run events and token usage. Plus each box's X25519 secrets key and the fingerprint
 * of the agents section last composed into its desired state.
 */
export class Agents1764300000000 implements MigrationInterface {
  name = 'Agents1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = portableColumns(queryRunner);
    await queryRunner.addColumn(
      'devices',
      new TableColumn({ name: 'secrets_key', type: 'varchar', length: '200', isNullable: true }),
    );
    await queryRunner.addColumn(
      'device_states',
      new TableColumn({ name: 'agents_fingerprint', type: 'varchar', length: '64', isNullable: true }),
    );

    await createTable(queryRunner, 'providers', [
      c.varchar('id', 63, PRIMARY),
      c.varchar('name', 100),
      c.varchar('kind', 32),
      c.varchar('base_url', 2000),
      c.json('models'),
      c.integer('version'),
      c.text('api_key', NULLABLE),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ]);

    await createTable(queryRunner, 'agents', [
      c.varchar('id', 63, PRIMARY),
      c.integer('version'),
      c.json('definition'),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ]);
    await createTable(queryRunner, 'agent_versions', [
      c.varchar('agent_id', 63, PRIMARY),
      c.integer('version', PRIMARY),
      c.json('definition'),
      c.timestamp('created_at'),
    ]);

    await createTable(
      queryRunner,
      'assignments',
      [
        c.varchar('id', 36, PRIMARY),
        c.varchar('agent_id', 63),
        c.varchar('target_type', 8),
        // The device id or tag; '' for every box.
        c.varchar('target_value', 64),
        c.timestamp('created_at'),
      ],
      {
        indices: [
          {
            name: 'uq_assignments_agent_target',
            columnNames: ['agent_id', 'target_type', 'target_value'],
            isUnique: true,
          },
        ],
      },
    );

    await createTable(queryRunner, 'runs', [
      c.varchar('id', 64, PRIMARY),
      c.varchar('device_id', 64),
      c.varchar('agent_id', 63),
      c.integer('agent_version'),
      c.json('run_trigger'),
      c.varchar('status', 20),
      c.text('input', NULLABLE),
      c.text('output', NULLABLE),
      c.text('error', NULLABLE),
      c.bigint('created_at'),
      c.bigint('started_at', NULLABLE),
      c.bigint('ended_at', NULLABLE),
      c.integer('steps'),
      c.bigint('input_tokens'),
      c.bigint('output_tokens'),
      c.timestamp('updated_at'),
    ]);
    // Run lists are newest first, filtered by box or agent (keyset pagination on created_at).
    for (const [name, columns] of [
      ['idx_runs_created_at', ['created_at']],
      ['idx_runs_device_created_at', ['device_id', 'created_at']],
      ['idx_runs_agent_created_at', ['agent_id', 'created_at']],
    ] as const) {
      await queryRunner.createIndex('runs', new TableIndex({ name, columnNames: [...columns] }));
    }

    await createTable(queryRunner, 'run_events', [
      c.varchar('run_id', 64, PRIMARY),
      c.integer('idx', PRIMARY),
      c.varchar('device_id', 64),
      c.varchar('agent_id', 63),
      c.bigint('ts'),
      c.varchar('type', 16),
      c.varchar('name', 200, NULLABLE),
      // Any JSON value, strings included: text on both engines, since jsonb hands back a bare string
      // that could not be told apart from the encoded text SQLite returns.
      c.text('data', NULLABLE),
      c.integer('input_tokens', NULLABLE),
      c.integer('output_tokens', NULLABLE),
      c.integer('duration_ms', NULLABLE),
      c.text('error', NULLABLE),
    ]);

    await createTable(queryRunner, 'usage_records', [
      c.varchar('id', 64, PRIMARY),
      c.varchar('device_id', 64),
      c.varchar('agent_id', 63),
      c.varchar('run_id', 64, NULLABLE),
      c.varchar('provider', 63),
      c.varchar('model', 200),
      c.bigint('ts'),
      c.bigint('input_tokens'),
      c.bigint('output_tokens'),
      c.boolean('estimated'),
      c.varchar('outcome', 8),
    ]);
    // Usage queries always bound the time range; the box and agent filters narrow it further.
    for (const [name, columns] of [
      ['idx_usage_records_ts', ['ts']],
      ['idx_usage_records_agent_ts', ['agent_id', 'ts']],
      ['idx_usage_records_device_ts', ['device_id', 'ts']],
    ] as const) {
      await queryRunner.createIndex('usage_records', new TableIndex({ name, columnNames: [...columns] }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('usage_records');
    await queryRunner.dropTable('run_events');
    await queryRunner.dropTable('runs');
    await queryRunner.dropTable('assignments');
    await queryRunner.dropTable('agent_versions');
    await queryRunner.dropTable('agents');
    await queryRunner.dropTable('providers');
    await queryRunner.dropColumn('device_states', 'agents_fingerprint');
    await queryRunner.dropColumn('devices', 'secrets_key');
  }
}
