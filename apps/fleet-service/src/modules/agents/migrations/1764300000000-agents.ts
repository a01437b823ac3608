import { TableColumn } from 'typeorm';
import {
  NULLABLE,
  PRIMARY,
  createTables,
  defineMigration,
  dropTables,
  table,
  type PortableColumns,
  type TableDefinition,
} from '../../../database/migration-helpers.js';

/** The tables this migration creates, and drops again when reverted. */
const tables = (c: PortableColumns): TableDefinition[] => [
  table('providers', {
    columns: {
      id: c.varchar(63, PRIMARY),
      name: c.varchar(100),
      kind: c.varchar(32),
      base_url: c.varchar(2000),
      models: c.json(),
      version: c.integer(),
      api_key: c.text(NULLABLE),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
  }),
  table('agents', {
    columns: {
      id: c.varchar(63, PRIMARY),
      version: c.integer(),
      definition: c.json(),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
  }),
  table('agent_versions', {
    columns: {
      agent_id: c.varchar(63, PRIMARY),
      version: c.integer(PRIMARY),
      definition: c.json(),
      created_at: c.timestamp(),
    },
  }),
  table('assignments', {
    columns: {
      id: c.varchar(36, PRIMARY),
      agent_id: c.varchar(63),
      target_type: c.varchar(8),
      // The device id or tag; '' for every box.
      target_value: c.varchar(64),
      created_at: c.timestamp(),
    },
    indices: [
      {
        name: 'uq_assignments_agent_target',
        columnNames: ['agent_id', 'target_type', 'target_value'],
        isUnique: true,
      },
    ],
  }),
  table('runs', {
    columns: {
      id: c.varchar(64, PRIMARY),
      device_id: c.varchar(64),
      agent_id: c.varchar(63),
      agent_version: c.integer(),
      run_trigger: c.json(),
      status: c.varchar(20),
      input: c.text(NULLABLE),
      output: c.text(NULLABLE),
      error: c.text(NULLABLE),
      created_at: c.bigint(),
      started_at: c.bigint(NULLABLE),
      ended_at: c.bigint(NULLABLE),
      steps: c.integer(),
      input_tokens: c.bigint(),
      output_tokens: c.bigint(),
      updated_at: c.timestamp(),
    },
    // Run lists are newest first, filtered by box or agent (keyset pagination on created_at).
    indices: [
      { name: 'idx_runs_created_at', columnNames: ['created_at'] },
      { name: 'idx_runs_device_created_at', columnNames: ['device_id', 'created_at'] },
      { name: 'idx_runs_agent_created_at', columnNames: ['agent_id', 'created_at'] },
    ],
  }),
  table('run_events', {
    columns: {
      run_id: c.varchar(64, PRIMARY),
      idx: c.integer(PRIMARY),
      device_id: c.varchar(64),
      agent_id: c.varchar(63),
      ts: c.bigint(),
      type: c.varchar(16),
      name: c.varchar(200, NULLABLE),
      // Any JSON value, strings included: text on both engines, since jsonb hands back a bare string
      // that could not be told apart from the encoded text SQLite returns.
      data: c.text(NULLABLE),
      input_tokens: c.integer(NULLABLE),
      output_tokens: c.integer(NULLABLE),
      duration_ms: c.integer(NULLABLE),
      error: c.text(NULLABLE),
    },
  }),
  table('usage_records', {
    columns: {
      id: c.varchar(64, PRIMARY),
      device_id: c.varchar(64),
      agent_id: c.varchar(63),
      run_id: c.varchar(64, NULLABLE),
      provider: c.varchar(63),
      model: c.varchar(200),
      ts: c.bigint(),
      input_tokens: c.bigint(),
      output_tokens: c.bigint(),
      estimated: c.boolean(),
      outcome: c.varchar(8),
    },
    // Usage queries always bound the time range; the box and agent filters narrow it further.
    indices: [
      { name: 'idx_usage_records_ts', columnNames: ['ts'] },
      { name: 'idx_usage_records_agent_ts', columnNames: ['agent_id', 'ts'] },
      { name: 'idx_usage_records_device_ts', columnNames: ['device_id', 'ts'] },
    ],
  }),
];

/**
 * Agents, their versions, model providers (API keys encrypted), assignments, and what boxes report
 * about them: runs, run events and token usage. Plus each box's X25519 secrets key and the fingerprint
 * of the agents section last composed into its desired state.
 */
export const Agents1764300000000 = defineMigration('Agents1764300000000', {
  async up(queryRunner, c) {
    await queryRunner.addColumn(
      'devices',
      new TableColumn({ name: 'secrets_key', ...c.varchar(200, NULLABLE) }),
    );
    await queryRunner.addColumn(
      'device_states',
      new TableColumn({ name: 'agents_fingerprint', ...c.varchar(64, NULLABLE) }),
    );
    await createTables(queryRunner, tables(c));
  },

  async down(queryRunner, c) {
    await dropTables(queryRunner, tables(c));
    await queryRunner.dropColumn('device_states', 'agents_fingerprint');
    await queryRunner.dropColumn('devices', 'secrets_key');
  },
});
