import type { DataSource, EntityManager } from 'typeorm';

/**
 * Raw multi-row statements (batched ingest, aggregates) written once for both drivers: placeholders and
 * parameter values differ (better-sqlite3 binds neither Date nor boolean).
 */
export class SqlDialect {
  readonly postgres: boolean;

  constructor(dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** `(?, ?, ?)` or `($4, $5, $6)` for one row of `width` values appended to `params`. */
  tuple(params: unknown[], values: unknown[]): string {
    const base = params.length;
    params.push(...values.map((value) => this.value(value)));
    return `(${values.map((_, i) => (this.postgres ? `$${base + i + 1}` : '?')).join(', ')})`;
  }

  /**
   * Inserts `rows` with multi-row statements of at most `perStatement` rows each: `statement` gets the
   * `(...), (...)` list and adds the rest (columns, ON CONFLICT, RETURNING). Returns every row returned.
   */
  async insertRows<T, R>(
    manager: EntityManager,
    rows: readonly T[],
    perStatement: number,
    valuesOf: (row: T) => unknown[],
    statement: (tuples: string) => string,
  ): Promise<R[]> {
    const returned: R[] = [];
    for (let start = 0; start < rows.length; start += perStatement) {
      const params: unknown[] = [];
      const tuples = rows.slice(start, start + perStatement).map((row) => this.tuple(params, valuesOf(row)));
      returned.push(...(await manager.query<R[]>(statement(tuples.join(', ')), params)));
    }
    return returned;
  }

  /** One placeholder for `value`, appended to `params`. */
  param(params: unknown[], value: unknown): string {
    params.push(this.value(value));
    return this.postgres ? `$${params.length}` : '?';
  }

  private value(value: unknown): unknown {
    if (this.postgres) return value;
    // TypeORM's SQLite datetime format (UTC), so entities read these rows back as Dates.
    if (value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', '');
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value;
  }
}
