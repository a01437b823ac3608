import type { QueryRunner } from 'typeorm';

/**
 * Column types for migrations that must run on both SQLite and PostgreSQL.
 * Entities keep driver-neutral decorators; migrations ask for the physical type here.
 */
export function portableTypes(queryRunner: QueryRunner) {
  const postgres = queryRunner.connection.options.type === 'postgres';
  return {
    timestamp: postgres ? 'timestamptz' : 'datetime',
    json: postgres ? 'jsonb' : 'text',
    bigint: 'bigint',
    boolean: postgres ? 'boolean' : 'boolean',
  } as const;
}
