import {
  Table,
  TableIndex,
  type MigrationInterface,
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

/** A column as a migration declares it; its name is its key in the table's `columns`. */
export type PortableColumn = Omit<TableColumnOptions, 'name'>;

/**
 * Column types for migrations that run on both SQLite and PostgreSQL (`name: c.varchar(100, NULLABLE)`),
 * with the physical types of portableTypes().
 */
export function portableColumns(queryRunner: QueryRunner) {
  const t = portableTypes(queryRunner);
  const column =
    (type: string) =>
    (flags: ColumnFlags = {}): PortableColumn => ({ type, ...flags });
  return {
    varchar: (length: number, flags: ColumnFlags = {}): PortableColumn => ({
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

export type PortableColumns = ReturnType<typeof portableColumns>;

/** What a migration does; both steps get the portable columns of the driver they run on. */
export interface MigrationSteps {
  up(queryRunner: QueryRunner, c: PortableColumns): Promise<void>;
  down(queryRunner: QueryRunner, c: PortableColumns): Promise<void>;
}

export type MigrationClass = new () => MigrationInterface;

/**
 * The class TypeORM runs for a migration. `name` is both the class name and the name recorded in the
 * migrations table (its last 13 digits order the migrations), so it never changes once released.
 */
export function defineMigration(name: string, steps: MigrationSteps): MigrationClass {
  const migration = class implements MigrationInterface {
    readonly name = name;

    up(queryRunner: QueryRunner): Promise<void> {
      return steps.up(queryRunner, portableColumns(queryRunner));
    }

    down(queryRunner: QueryRunner): Promise<void> {
      return steps.down(queryRunner, portableColumns(queryRunner));
    }
  };
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}

/** A table as a migration creates it: its indices are created after it, one statement each. */
export interface TableDefinition {
  name: string;
  /** By column name, in the table's column order (names are never integer-like, so the order holds). */
  columns: Record<string, PortableColumn>;
  indices?: TableIndexOptions[];
  foreignKeys?: TableForeignKeyOptions[];
}

/** A table of a migration, `columns` keyed by column name in the table's order. */
export function table(name: string, definition: Omit<TableDefinition, 'name'>): TableDefinition {
  return { name, ...definition };
}

/** Creates each table (with its foreign keys), then each of its indices, as separate statements. */
export async function createTables(queryRunner: QueryRunner, tables: TableDefinition[]): Promise<void> {
  for (const { name, columns, indices = [], foreignKeys } of tables) {
    const table = new Table({
      name,
      columns: Object.entries(columns).map(([column, options]) => ({ name: column, ...options })),
      ...(foreignKeys ? { foreignKeys } : {}),
    });
    await queryRunner.createTable(table);
    for (const index of indices) await queryRunner.createIndex(name, new TableIndex(index));
  }
}

/** Drops the tables in reverse order, so a table goes before those it references. */
export async function dropTables(queryRunner: QueryRunner, tables: TableDefinition[]): Promise<void> {
  for (const { name } of [...tables].reverse()) await queryRunner.dropTable(name);
}

/** A migration that only creates tables, in the order given; reverting it drops them. */
export function tablesMigration(
  name: string,
  tables: (c: PortableColumns) => TableDefinition[],
): MigrationClass {
  return defineMigration(name, {
    up: (queryRunner, c) => createTables(queryRunner, tables(c)),
    down: (queryRunner, c) => dropTables(queryRunner, tables(c)),
  });
}
