/** A condition with its `?` parameter; it applies only when the value is given. */
export type SqlFilter = [condition: string, value: unknown];

/** The WHERE clause (or '') that ANDs the filters whose value is given, and their parameters in order. */
export function whereClause(filters: SqlFilter[]): { where: string; params: unknown[] } {
  const given = filters.filter(([, value]) => value !== undefined);
  return {
    where: given.length ? `WHERE ${given.map(([condition]) => condition).join(' AND ')}` : '',
    params: given.map(([, value]) => value),
  };
}
