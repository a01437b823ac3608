import { UsageRecordSchema, type UsageRecord } from '@agentbox/schemas';
import type { AgentDatabase } from './agent-database.js';
import { whereClause } from './sql-where.js';

export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
}

export interface UsageQuery {
  agentId?: string;
  /** Inclusive lower bound on the record's time. */
  since?: number;
  /** Exclusive upper bound. */
  until?: number;
}

/**
 * Usage records kept on the box for its own totals (tokens today per agent, the state report),
 * independent of whether the cloud has received them yet. Idempotent by record id.
 */
export class UsageStore {
  constructor(private readonly db: AgentDatabase) {}

  /** Stores the record; false when a record with that id is already there (a replay). */
  record(usage: UsageRecord): boolean {
    const valid = UsageRecordSchema.parse(usage);
    return (
      this.db
        .prepare(
          `INSERT OR IGNORE INTO usage_records
             (id, agent_id, run_id, provider, model, ts, input_tokens, output_tokens, estimated, outcome)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          valid.id,
          valid.agentId,
          valid.runId ?? null,
          valid.provider,
          valid.model,
          valid.ts,
          valid.inputTokens,
          valid.outputTokens,
          valid.estimated ? 1 : 0,
          valid.outcome,
        ).changes > 0
    );
  }

  totals(query: UsageQuery = {}): TokenTotals {
    const { where, params } = whereOf(query);
    const row = this.db
      .prepare(
        `SELECT COALESCE(SUM(input_tokens), 0) AS inputTokens, COALESCE(SUM(output_tokens), 0) AS outputTokens
         FROM usage_records ${where}`,
      )
      .get(...params) as TokenTotals;
    return row;
  }

  /** Totals per agent (for the state report: tokens today of every agent in one query). */
  totalsByAgent(query: Omit<UsageQuery, 'agentId'> = {}): Map<string, TokenTotals> {
    const { where, params } = whereOf(query);
    const rows = this.db
      .prepare(
        `SELECT agent_id AS agentId, SUM(input_tokens) AS inputTokens, SUM(output_tokens) AS outputTokens
         FROM usage_records ${where} GROUP BY agent_id`,
      )
      .all(...params) as (TokenTotals & { agentId: string })[];
    return new Map(rows.map(({ agentId, ...totals }) => [agentId, totals]));
  }

  list(query: UsageQuery & { limit?: number } = {}): UsageRecord[] {
    const { where, params } = whereOf(query);
    const limit = Math.min(Math.max(query.limit ?? 1_000, 1), 10_000);
    const rows = this.db
      .prepare(
        `SELECT id, agent_id, run_id, provider, model, ts, input_tokens, output_tokens, estimated, outcome
         FROM usage_records ${where} ORDER BY ts, rowid LIMIT ${limit}`,
      )
      .all(...params) as {
      id: string;
      agent_id: string;
      run_id: string | null;
      provider: string;
      model: string;
      ts: number;
      input_tokens: number;
      output_tokens: number;
      estimated: number;
      outcome: string;
    }[];
    return rows.map((row) =>
      UsageRecordSchema.parse({
        id: row.id,
        agentId: row.agent_id,
        ...(row.run_id === null ? {} : { runId: row.run_id }),
        provider: row.provider,
        model: row.model,
        ts: row.ts,
        inputTokens: row.input_tokens,
        outputTokens: row.output_tokens,
        estimated: row.estimated === 1,
        outcome: row.outcome,
      }),
    );
  }

  /** Retention: deletes records older than `before`; returns how many. */
  prune(before: number): number {
    return this.db.prepare('DELETE FROM usage_records WHERE ts < ?').run(before).changes;
  }
}

function whereOf(query: UsageQuery): { where: string; params: unknown[] } {
  return whereClause([
    ['agent_id = ?', query.agentId],
    ['ts >= ?', query.since],
    ['ts < ?', query.until],
  ]);
}
