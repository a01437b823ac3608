import { NULLABLE, PRIMARY, UNIQUE, table, tablesMigration } from '../migration-helpers.js';

/** Users, devices and claim tokens; written once for SQLite and PostgreSQL through portableTypes. */
export const CoreSchema1764280000000 = tablesMigration('CoreSchema1764280000000', (c) => [
  table('users', {
    columns: {
      id: c.varchar(36, PRIMARY),
      username: c.varchar(100, UNIQUE),
      password_hash: c.varchar(255),
      role: c.varchar(16),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
  }),
  table('devices', {
    columns: {
      id: c.varchar(64, PRIMARY),
      name: c.varchar(100),
      hardware_id: c.varchar(128, UNIQUE),
      secret_hash: c.varchar(255),
      tags: c.json(),
      agent_version: c.varchar(64, NULLABLE),
      hardware: c.json(NULLABLE),
      capabilities: c.json(),
      metrics: c.json(),
      online: c.boolean({ default: false }),
      last_seen_at: c.timestamp(NULLABLE),
      connected_at: c.timestamp(NULLABLE),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
    indices: [
      { name: 'idx_devices_name', columnNames: ['name'] },
      { name: 'idx_devices_last_seen_at', columnNames: ['last_seen_at'] },
    ],
  }),
  table('claim_tokens', {
    columns: {
      id: c.varchar(36, PRIMARY),
      token_hash: c.varchar(64, UNIQUE),
      expires_at: c.timestamp(),
      max_uses: c.integer(),
      uses: c.integer({ default: 0 }),
      note: c.varchar(200, NULLABLE),
      created_by: c.varchar(100),
      created_at: c.timestamp(),
      revoked_at: c.timestamp(NULLABLE),
    },
  }),
]);
