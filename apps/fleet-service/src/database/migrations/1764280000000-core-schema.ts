import { NULLABLE, PRIMARY, UNIQUE, tablesMigration } from '../migration-helpers.js';

/** Users, devices and claim tokens; written once for SQLite and PostgreSQL through portableTypes. */
export const CoreSchema1764280000000 = tablesMigration('CoreSchema1764280000000', (c) => [
  {
    name: 'users',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.varchar('username', 100, UNIQUE),
      c.varchar('password_hash', 255),
      c.varchar('role', 16),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ],
  },
  {
    name: 'devices',
    columns: [
      c.varchar('id', 64, PRIMARY),
      c.varchar('name', 100),
      c.varchar('hardware_id', 128, UNIQUE),
      c.varchar('secret_hash', 255),
      c.json('tags'),
      c.varchar('agent_version', 64, NULLABLE),
      c.json('hardware', NULLABLE),
      c.json('capabilities'),
      c.json('metrics'),
      c.boolean('online', { default: false }),
      c.timestamp('last_seen_at', NULLABLE),
      c.timestamp('connected_at', NULLABLE),
      c.timestamp('created_at'),
      c.timestamp('updated_at'),
    ],
    indices: [
      { name: 'idx_devices_name', columnNames: ['name'] },
      { name: 'idx_devices_last_seen_at', columnNames: ['last_seen_at'] },
    ],
  },
  {
    name: 'claim_tokens',
    columns: [
      c.varchar('id', 36, PRIMARY),
      c.varchar('token_hash', 64, UNIQUE),
      c.timestamp('expires_at'),
      c.integer('max_uses'),
      c.integer('uses', { default: 0 }),
      c.varchar('note', 200, NULLABLE),
      c.varchar('created_by', 100),
      c.timestamp('created_at'),
      c.timestamp('revoked_at', NULLABLE),
    ],
  },
]);
