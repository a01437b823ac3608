import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { portableTypes } from '../../../database/portable-types.js';

/**
 * Agents, their versions, model providers (API keys encrypted), assignments, and what boxes report
 * about them: runs, run events and token usage. Plus each box's X25519 secrets key and the fingerprint
 * of the agents section last composed into its desired state.
 */
export class Agents1764300000000 implements MigrationInterface {
  name = 'Agents1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = portableTypes(queryRunner);
    await queryRunner.addColumn(
      'devices',
      new TableColumn({ name: 'secrets_key', type: 'varchar', length: '200', isNullable: true }),
    );
    await queryRunner.addColumn(
      'device_states',
      new TableColumn({ name: 'agents_fingerprint', type: 'varchar', length: '64', isNullable: true }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'providers',
        columns: [
          { name: 'id', type: 'varchar', length: '63', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'kind', type: 'varchar', length: '32' },
          { name: 'base_url', type: 'varchar', length: '2000' },
          { name: 'models', type: t.json },
          { name: 'version', type: 'integer' },
          { name: 'api_key', type: 'text', isNullable: true },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'agents',
        columns: [
          { name: 'id', type: 'varchar', length: '63', isPrimary: true },
          { name: 'version', type: 'integer' },
          { name: 'definition', type: t.json },
          { name: 'created_at', type: t.timestamp },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'agent_versions',
        columns: [
          { name: 'agent_id', type: 'varchar', length: '63', isPrimary: true },
          { name: 'version', type: 'integer', isPrimary: true },
          { name: 'definition', type: t.json },
          { name: 'created_at', type: t.timestamp },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'assignments',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'agent_id', type: 'varchar', length: '63' },
          { name: 'target_type', type: 'varchar', length: '8' },
          // The device id or tag; '' for every box.
          { name: 'target_value', type: 'varchar', length: '64' },
          { name: 'created_at', type: t.timestamp },
        ],
      }),
    );
    await queryRunner.createIndex(
      'assignments',
      new TableIndex({
        name: 'uq_assignments_agent_target',
        columnNames: ['agent_id', 'target_type', 'target_value'],
        isUnique: true,
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'runs',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'device_id', type: 'varchar', length: '64' },
          { name: 'agent_id', type: 'varchar', length: '63' },
          { name: 'agent_version', type: 'integer' },
          { name: 'run_trigger', type: t.json },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'input', type: 'text', isNullable: true },
          { name: 'output', type: 'text', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
          { name: 'created_at', type: t.bigint },
          { name: 'started_at', type: t.bigint, isNullable: true },
          { name: 'ended_at', type: t.bigint, isNullable: true },
          { name: 'steps', type: 'integer' },
          { name: 'input_tokens', type: t.bigint },
          { name: 'output_tokens', type: t.bigint },
          { name: 'updated_at', type: t.timestamp },
        ],
      }),
    );
    // Run lists are newest first, filtered by box or agent (keyset pagination on created_at).
    for (const [name, columns] of [
      ['idx_runs_created_at', ['created_at']],
      ['idx_runs_device_created_at', ['device_id', 'created_at']],
      ['idx_runs_agent_created_at', ['agent_id', 'created_at']],
    ] as const) {
      await queryRunner.createIndex('runs', new TableIndex({ name, columnNames: [...columns] }));
    }

    await queryRunner.createTable(
      new Table({
        name: 'run_events',
        columns: [
          { name: 'run_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'idx', type: 'integer', isPrimary: true },
          { name: 'device_id', type: 'varchar', length: '64' },
          { name: 'agent_id', type: 'varchar', length: '63' },
          { name: 'ts', type: t.bigint },
          { name: 'type', type: 'varchar', length: '16' },
          { name: 'name', type: 'varchar', length: '200', isNullable: true },
          // Any JSON value, strings included: text on both engines, since jsonb hands back a bare string
          // that could not be told apart from the encoded text SQLite returns.
          { name: 'data', type: 'text', isNullable: true },
          { name: 'input_tokens', type: 'integer', isNullable: true },
          { name: 'output_tokens', type: 'integer', isNullable: true },
          { name: 'duration_ms', type: 'integer', isNullable: true },
          { name: 'error', type: 'text', isNullable: true },
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'usage_records',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'device_id', type: 'varchar', length: '64' },
          { name: 'agent_id', type: 'varchar', length: '63' },
          { name: 'run_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'provider', type: 'varchar', length: '63' },
          { name: 'model', type: 'varchar', length: '200' },
          { name: 'ts', type: t.bigint },
          { name: 'input_tokens', type: t.bigint },
          { name: 'output_tokens', type: t.bigint },
          { name: 'estimated', type: t.boolean },
          { name: 'outcome', type: 'varchar', length: '8' },
        ],
      }),
    );
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
