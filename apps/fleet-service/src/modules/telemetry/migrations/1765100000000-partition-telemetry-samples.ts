import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DAY_MS, DEFAULT_PARTITION, PARENT, createPartition, dayStart } from '../telemetry-partitions.js';

/** Days of existing samples that get a daily partition of their own; older ones go to the default partition. */
const BACKFILL_DAYS = 90;

/**
 * PostgreSQL: telemetry_samples becomes a table partitioned by range of `ts`, one partition per UTC day,
 * so retention drops whole partitions instead of deleting rows (docs/operations.md, "Telemetry storage").
 * A partitioned table's primary key must hold the partition key: it becomes (device_id, ts, seq, idx); a
 * redelivered message carries the same samples with the same ts, so redeliveries are still skipped. In that
 * order it also serves the history reads by (device_id, ts), so each insert maintains one index, not two.
 * SQLite keeps its table (retention deletes rows there).
 */
export class PartitionTelemetrySamples1765100000000 implements MigrationInterface {
  readonly name = 'PartitionTelemetrySamples1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    const query = (sql: string, parameters?: unknown[]) => queryRunner.query(sql, parameters);
    await query(`ALTER TABLE ${PARENT} RENAME TO telemetry_samples_old`);
    await query('DROP INDEX idx_telemetry_samples_device_ts');
    await query('DROP INDEX idx_telemetry_samples_ts');
    await query(
      `CREATE TABLE ${PARENT} (
        device_id varchar(64) NOT NULL,
        seq bigint NOT NULL,
        idx integer NOT NULL,
        ts bigint NOT NULL,
        "values" jsonb NOT NULL,
        CONSTRAINT pk_telemetry_samples PRIMARY KEY (device_id, ts, seq, idx)
      ) PARTITION BY RANGE (ts)`,
    );
    await query(`CREATE TABLE ${DEFAULT_PARTITION} PARTITION OF ${PARENT} DEFAULT`);
    const [range] = (await query(
      'SELECT min(ts) AS min, max(ts) AS max FROM telemetry_samples_old',
    )) as Array<{
      min: string | null;
      max: string | null;
    }>;
    const now = Date.now();
    const first = dayStart(Math.max(Number(range?.min ?? now), now - BACKFILL_DAYS * DAY_MS));
    const last = dayStart(Math.min(Number(range?.max ?? now), now));
    // The migration runs in a transaction already: createPartition's own BEGIN/COMMIT would end it.
    const inTransaction = (sql: string, parameters?: unknown[]) =>
      /^(BEGIN|COMMIT|ROLLBACK)$/.test(sql) ? Promise.resolve() : query(sql, parameters);
    for (let day = first; day <= last; day += DAY_MS) await createPartition(inTransaction, day);
    await query(`INSERT INTO ${PARENT} SELECT device_id, seq, idx, ts, "values" FROM telemetry_samples_old`);
    await query('DROP TABLE telemetry_samples_old');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.query(`ALTER TABLE ${PARENT} RENAME TO telemetry_samples_partitioned`);
    await queryRunner.query(
      'ALTER INDEX idx_telemetry_samples_device_ts RENAME TO idx_telemetry_samples_p_device_ts',
    );
    await queryRunner.query(
      `CREATE TABLE ${PARENT} (
        device_id varchar(64) NOT NULL,
        seq bigint NOT NULL,
        idx integer NOT NULL,
        ts bigint NOT NULL,
        "values" jsonb NOT NULL,
        PRIMARY KEY (device_id, seq, idx)
      )`,
    );
    await queryRunner.query(`CREATE INDEX idx_telemetry_samples_device_ts ON ${PARENT} (device_id, ts)`);
    await queryRunner.query(`CREATE INDEX idx_telemetry_samples_ts ON ${PARENT} (ts)`);
    await queryRunner.query(
      `INSERT INTO ${PARENT} SELECT * FROM telemetry_samples_partitioned ON CONFLICT DO NOTHING`,
    );
    await queryRunner.query('DROP TABLE telemetry_samples_partitioned');
  }
}
