import type { ValueTransformer } from 'typeorm';

/**
 * JSON columns are `text` on SQLite and `jsonb` on PostgreSQL (see portableTypes). Entities declare them
 * as text and store JSON strings; PostgreSQL casts the string parameter to jsonb and hands back parsed
 * values, SQLite hands back the string, so reading accepts both. That holds for objects and arrays only:
 * a column that may hold a bare JSON string must be text on both engines.
 */
export const jsonTransformer: ValueTransformer = {
  to: (value: unknown) => (value === undefined ? undefined : value === null ? null : JSON.stringify(value)),
  from: (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as unknown) : (value ?? null)),
};
