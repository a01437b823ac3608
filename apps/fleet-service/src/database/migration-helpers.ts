import {
  Table,
  TableIndex,
  type QueryRunner,
  type TableColumnOptions,
  type TableForeignKeyOptions,
  type TableIndexOptions,
} from 'typeorm';
import { portableTypes } from './portable-types.js';

/** Column flags, spread into the column's options as TypeORM names them. */
export const PRIMARY = { isPrimary: true } as const;
export const NULLABLE = { isNullable: true } as const;
export const UNIQUE = { isUnique: true } as const;
type ColumnFlags = Partial<Pick<TableColumnOptions, 'isPrimary' | 'isNullable' | 'isUnique' | 'default'>>;

/**
 * Columns for migrations that run on both SQLite and PostgreSQL, one call per column
 * (`c.varchar('name', 100, NULLABLE)`), with the physical types of portableTypes().
 */
export function portableColumns(queryRunner: QueryRunner) {
  const t = portableTypes(queryRunner);
  const column =
    (type: string) =>
    (name: string, flags: ColumnFlags = {}): TableColumnOptions => ({ name, type, ...flags });
  return {
    varchar: (name: string, length: number, flags: ColumnFlags = {}): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...flags,
    }),
    text: column('text'),
    integer: column('integer'),
    bigint: column(t.bigint),
    json: column(t.json),
    timestamp: column(t.timestamp),
    boolean: column(t.boolean),
  };
}

/** Creates a table (with its foreign keys), then each of its indices, as separate statements. */
export async function createTable(
  queryRunner: QueryRunner,
  name: string,
  columns: TableColumnOptions[],
  {
    indices = [],
    foreignKeys,
  }: { indices?: TableIndexOptions[]; foreignKeys?: TableForeignKeyOptions[] } = {},
): Promise<void> {
  await queryRunner.createTable(new Table({ name, columns, ...(foreignKeys ? { foreignKeys } : {}) }));
  for (const index of indices) await queryRunner.createIndex(name, new TableIndex(index));
}
