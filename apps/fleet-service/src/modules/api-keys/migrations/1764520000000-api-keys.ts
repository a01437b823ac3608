import { NULLABLE, PRIMARY, table, tablesMigration } from '../../../database/migration-helpers.js';

/** API keys for automation (the release CLI, scripts): hashed secrets, role, expiry, revocation. */
export const ApiKeys1764520000000 = tablesMigration('ApiKeys1764520000000', (c) => [
  table('api_keys', {
    columns: {
      id: c.varchar(16, PRIMARY),
      name: c.varchar(100),
      role: c.varchar(16),
      secret_hash: c.varchar(64),
      created_by: c.varchar(100),
      created_by_id: c.varchar(36),
      created_at: c.timestamp(),
      expires_at: c.timestamp(NULLABLE),
      last_used_at: c.timestamp(NULLABLE),
      revoked_at: c.timestamp(NULLABLE),
      revoked_by: c.varchar(100, NULLABLE),
    },
  }),
]);
