import { TableColumn } from 'typeorm';
import {
  NULLABLE,
  PRIMARY,
  createTables,
  defineMigration,
  dropTables,
  type PortableColumns,
  type TableDefinition,
} from '../../../database/migration-helpers.js';

const tables = (c: PortableColumns): TableDefinition[] => [
  {
    name: 'providers',
    columns: [
      c.varchar('id', 63, PRIMARY),
      c.varchar('name', 100),
      c.varchar('kind', 32),
      c.varchar('base_url', 2000),
      c.json('models'),
      c.integer('version'),
      c.text('api_key', NULLABLE),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ],
  },
  {
    name: 'agents',
    columns: [
      c.varchar('id', 63, PRIMARY),
      c.integer('version'),
      c.json('definition'),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ],
  },
  {
    name: 'agent_versions',
    columns: [
      c.varchar('agent_id', 63, PRIMARY),
      c.integer('version', PRIMARY),
      c.json('definition'),
      c.timestamp('created_at'),
    ],
  },
  {
    name: 'assignments',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.varchar('agent_id', 63),
      c.varchar('target_type', 8),
      // The device id or tag; '' for every box.
      c.varchar('target_value', 64),
      c.timestamp('created_at'),
    ],
    indices: [
      {
        name: 'uq_assignments_agent_target',
        columnNames: ['agent_id', 'target_type', 'target_value'],
        isUnique: true,
      },
    ],
  },
  {
    name: 'runs',
    columns: [
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
    ],
    // Run lists are newest first, filtered by box or agent (keyset pagination on created_at).
    indices: [
      { name: 'idx_runs_created_at', columnNames: ['created_at'] },
      { name: 'idx_runs_device_created_at', columnNames: ['device_id', 'created_at'] },
      { name: 'idx_runs_agent_created_at', columnNames: ['agent_id', 'created_at'] },
    ],
  },
  {
    name: 'run_events',
    columns: [
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
    ],
  },
  {
    name: 'usage_records',
    columns: [
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
    ],
    // Usage queries always bound the time range; the box and agent filters narrow it further.
    indices: [
      { name: 'idx_usage_records_ts', columnNames: ['ts'] },
      { name: 'idx_usage_records_agent_ts', columnNames: ['agent_id', 'ts'] },
      { name: 'idx_usage_records_device_ts', columnNames: ['device_id', 'ts'] },
    ],
  },
];

/**
 * Agents, their versions, model providers (API keys encrypted), assignments, and what boxes report
 * about them: runs, run events and token usage. Plus each box's X25519 secrets key and the fingerprint
 * of the agents section last composed into its desired state.
 */
export const Agents1764300000000 = defineMigration('Agents1764300000000', {
  async up(queryRunner, c) {
    await queryRunner.addColumn('devices', new TableColumn(c.varchar('secrets_key', 200, NULLABLE)));
    await queryRunner.addColumn(
      'device_states',
      new TableColumn(c.varchar('agents_fingerprint', 64, NULLABLE)),
    );
    await createTables(queryRunner, tables(c));
  },

  async down(queryRunner, c) {
    await dropTables(queryRunner, tables(c));
    await queryRunner.dropColumn('device_states', 'agents_fingerprint');
    await queryRunner.dropColumn('devices', 'secrets_key');
  },
});
