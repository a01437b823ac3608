import { NULLABLE, PRIMARY, tablesMigration } from '../../../database/migration-helpers.js';

/** API keys for automation (the release CLI, scripts): hashed secrets, role, expiry, revocation. */
export const ApiKeys1764520000000 = tablesMigration('ApiKeys1764520000000', (c) => [
  {
    name: 'api_keys',
    columns: [
      c.varchar('id', 16, PRIMARY),
      c.varchar('name', 100),
      c.varchar('role', 16),
      c.varchar('secret_hash', 64),
      c.varchar('created_by', 100),
      c.varchar('created_by_id', 36),
      c.timestamp('created_at'),
      c.timestamp('expires_at', NULLABLE),
      c.timestamp('last_used_at', NULLABLE),
      c.timestamp('revoked_at', NULLABLE),
      c.varchar('revoked_by', 100, NULLABLE),
    ],
  },
]);
