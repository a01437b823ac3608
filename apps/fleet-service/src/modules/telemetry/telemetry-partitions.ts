/**
 * Daily range partitions of `telemetry_samples` on PostgreSQL (docs/operations.md, "Telemetry storage"):
 * one partition per UTC day of `ts`, named `telemetry_samples_pYYYYMMDD`, created ahead by the service,
 * and dropped whole by retention. A DEFAULT partition takes samples outside every daily partition (a box
 * whose clock is far off); retention deletes its old rows one by one.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;
export const PARENT = 'telemetry_samples';
export const DEFAULT_PARTITION = 'telemetry_samples_default';
/** Days of partitions kept ready after today. */
export const DAYS_AHEAD = 7;

const NAME = /^telemetry_samples_p(\d{4})(\d{2})(\d{2})$/;

/** Runs one statement (a TypeORM QueryRunner, EntityManager or DataSource `query`). */
export type Query = (sql: string, parameters?: unknown[]) => Promise<unknown>;

/** The first millisecond of the UTC day that holds `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function partitionName(day: number): string {
  return `${PARENT}_p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The day a partition covers, from its name; undefined for the default partition or any other table. */
export function partitionDay(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : undefined;
}

/** Names of the partitions attached to telemetry_samples in the current schema. */
export async function listPartitions(query: Query): Promise<string[]> {
  const rows = (await query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass`,
    [PARENT],
  )) as Array<{ name: string }>;
  return rows.map((row) => row.name);
}

/**
 * Creates the daily partition of `day` unless it exists. Rows of that day already in the default
 * partition move into it first: PostgreSQL refuses a partition whose rows the default partition holds.
 * Concurrent replicas may race; the loser's statement fails and it sees the partition next time.
 */
export async function createPartition(query: Query, day: number): Promise<void> {
  const name = partitionName(day);
  const from = day;
  const to = day + DAY_MS;
  await query('BEGIN');
  try {
    await query(`CREATE TABLE IF NOT EXISTS "${name}" (LIKE ${PARENT} INCLUDING DEFAULTS)`);
    await query(
      `WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE ts >= $1 AND ts < $2 RETURNING *)
       INSERT INTO "${name}" SELECT * FROM moved`,
      [from, to],
    );
    await query(`ALTER TABLE ${PARENT} ATTACH PARTITION "${name}" FOR VALUES FROM (${from}) TO (${to})`);
    await query('COMMIT');
  } catch (error) {
    await query('ROLLBACK');
    throw error;
  }
}

/** Makes sure the partitions from yesterday to DAYS_AHEAD days after `now` exist; returns those created. */
export async function ensurePartitions(query: Query, now: number): Promise<string[]> {
  const existing = new Set(await listPartitions(query));
  const created: string[] = [];
  for (let offset = -1; offset <= DAYS_AHEAD; offset++) {
    const day = dayStart(now) + offset * DAY_MS;
    if (existing.has(partitionName(day))) continue;
    await createPartition(query, day);
    created.push(partitionName(day));
  }
  return created;
}

/**
 * Retention: drops every daily partition that ends at or before `cutoffMs` (a day's samples go together,
 * so they are kept up to a day longer than the cutoff), and deletes older rows from the default
 * partition. Returns the partitions dropped and the rows deleted.
 */
export async function dropOlderThan(
  query: Query,
  cutoffMs: number,
): Promise<{ partitions: string[]; rows: number }> {
  const partitions: string[] = [];
  for (const name of await listPartitions(query)) {
    const day = partitionDay(name);
    if (day === undefined || day + DAY_MS > cutoffMs) continue;
    await query(`DROP TABLE IF EXISTS "${name}"`);
    partitions.push(name);
  }
  const deleted = (await query(
    `WITH gone AS (DELETE FROM ${DEFAULT_PARTITION} WHERE ts < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    [cutoffMs],
  )) as Array<{ n: number }>;
  return { partitions, rows: deleted[0]?.n ?? 0 };
}
