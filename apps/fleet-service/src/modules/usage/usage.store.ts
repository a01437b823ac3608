import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { USAGE_GROUPS, UsageRecord } from '@agentbox/schemas';
import { uniqueBy } from '../../common/collections.js';
import { SqlDialect } from '../../database/sql-values.js';

export interface IncomingUsage {
  deviceId: string;
  record: UsageRecord;
}

export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageFilter {
  fromMs: number;
  toMs: number;
  deviceId?: string | undefined;
  agentId?: string | undefined;
}

export interface UsageBucketRow {
  bucket: number;
  key: string;
  inputTokens: number;
  outputTokens: number;
}

const ROWS_PER_STATEMENT = 500;
const GROUP_COLUMNS: Record<UsageGroup, string> = {
  agent: 'agent_id',
  device: 'device_id',
  model: 'model',
  provider: 'provider',
};

/** Storage and aggregation of token usage; every sum is computed by the database. */
@Injectable()
export class UsageStore {
  private readonly sql: SqlDialect;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.sql = new SqlDialect(dataSource);
  }

  /** Inserts records in `manager`'s transaction, skipping ids already stored; returns the ones inserted. */
  async insert(manager: EntityManager, incoming: readonly IncomingUsage[]): Promise<IncomingUsage[]> {
    const rows = uniqueBy(incoming, ({ record }) => record.id);
    const returned = await this.sql.insertRows<IncomingUsage, { id: string }>(
      manager,
      rows,
      ROWS_PER_STATEMENT,
      ({ deviceId, record }) => [
        record.id,
        deviceId,
        record.agentId,
        record.runId ?? null,
        record.provider,
        record.model,
        record.ts,
        record.inputTokens,
        record.outputTokens,
        record.estimated,
        record.outcome,
      ],
      (tuples) =>
        'INSERT INTO usage_records (id, device_id, agent_id, run_id, provider, model, ts, input_tokens, ' +
        'output_tokens, estimated, outcome) VALUES ' +
        tuples +
        ' ON CONFLICT (id) DO NOTHING RETURNING id',
    );
    const inserted = new Set(returned.map((row) => row.id));
    return rows.filter(({ record }) => inserted.has(record.id));
  }

  /** Token sums per (bucket start, group key); `bucketMs` divides the epoch into UTC hours or days. */
  async buckets(
    filter: UsageFilter,
    bucketMs: number,
    groupBy: UsageGroup | undefined,
  ): Promise<UsageBucketRow[]> {
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const bucket = `(ts - (ts % ${Math.trunc(bucketMs)}))`;
    const key = groupBy ? GROUP_COLUMNS[groupBy] : undefined;
    const statement =
      `SELECT ${bucket} AS bucket, ${key ? `${key} AS key, ` : ''}` +
      'SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens ' +
      `FROM usage_records WHERE ${where} GROUP BY ${bucket}${key ? `, ${key}` : ''} ORDER BY 1`;
    const rows = await this.dataSource.query<
      Array<{
        bucket: string | number;
        key?: string;
        input_tokens: string | number;
        output_tokens: string | number;
      }>
    >(statement, params);
    return rows.map((row) => ({
      bucket: Number(row.bucket),
      key: row.key ?? 'all',
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
    }));
  }

  async totals(
    filter: UsageFilter,
  ): Promise<{ inputTokens: number; outputTokens: number; estimatedRecords: number }> {
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const rows = await this.dataSource.query<
      Array<{
        input_tokens: string | number | null;
        output_tokens: string | number | null;
        estimated: string | number | null;
      }>
    >(
      'SELECT SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, ' +
        `SUM(CASE WHEN estimated THEN 1 ELSE 0 END) AS estimated FROM usage_records WHERE ${where}`,
      params,
    );
    const row = rows[0];
    return {
      inputTokens: Number(row?.input_tokens ?? 0),
      outputTokens: Number(row?.output_tokens ?? 0),
      estimatedRecords: Number(row?.estimated ?? 0),
    };
  }

  /** The `limit` keys with the most tokens (input + output) in the range. */
  async top(
    filter: UsageFilter,
    groupBy: 'agent' | 'device',
    limit: number,
  ): Promise<Array<{ key: string; tokens: number }>> {
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const column = GROUP_COLUMNS[groupBy];
    const rows = await this.dataSource.query<Array<{ key: string; tokens: string | number }>>(
      `SELECT ${column} AS key, SUM(input_tokens + output_tokens) AS tokens FROM usage_records ` +
        `WHERE ${where} GROUP BY ${column} ORDER BY tokens DESC, ${column} ASC LIMIT ${Math.trunc(limit)}`,
      params,
    );
    return rows.map((row) => ({ key: row.key, tokens: Number(row.tokens) }));
  }

  private where(filter: UsageFilter, params: unknown[]): string {
    const clauses = [
      `ts >= ${this.sql.param(params, filter.fromMs)}`,
      `ts < ${this.sql.param(params, filter.toMs)}`,
    ];
    if (filter.deviceId) clauses.push(`device_id = ${this.sql.param(params, filter.deviceId)}`);
    if (filter.agentId) clauses.push(`agent_id = ${this.sql.param(params, filter.agentId)}`);
    return clauses.join(' AND ');
  }
}
