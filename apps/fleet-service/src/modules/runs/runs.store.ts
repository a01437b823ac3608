import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, LessThan, type EntityManager, type Repository } from 'typeorm';
import { FINAL_RUN_STATUSES, type RunEvent, type RunListQuery, type RunRecord } from '@agentbox/schemas';
import { uniqueBy } from '../../common/collections.js';
import { SqlDialect } from '../../database/sql-values.js';
import { RunEventRow } from './run-event.entity.js';
import { RunRow } from './run.entity.js';

export interface IncomingRun {
  deviceId: string;
  run: RunRecord;
}

export interface IncomingRunEvent {
  deviceId: string;
  event: RunEvent;
}

/** Rows per INSERT statement: at most 16 parameters each keeps far below both drivers' limits. */
const ROWS_PER_STATEMENT = 500;
const FINAL = new Set<string>(FINAL_RUN_STATUSES);
const FINAL_SQL = FINAL_RUN_STATUSES.map((status) => `'${status}'`).join(', ');

/** A later report of the same run replaces an earlier one, except that a final status is never undone. */
export function mergeRun(stored: RunRecord, incoming: RunRecord): RunRecord {
  if (FINAL.has(stored.status) && !FINAL.has(incoming.status)) return stored;
  return {
    ...incoming,
    input: incoming.input ?? stored.input,
    output: incoming.output ?? stored.output,
    error: incoming.error ?? stored.error,
    startedAt: incoming.startedAt ?? stored.startedAt,
    endedAt: incoming.endedAt ?? stored.endedAt,
  };
}

/**
 * A reaction to runs a batch of reports changed, in the batch's transaction (what it writes commits
 * or rolls back with the runs); it may return what to do once that transaction is committed.
 */
export type RunsChangedHook = (
  manager: EntityManager,
  runs: readonly RunRecord[],
) => Promise<(() => void) | undefined>;

/** Storage of runs and run events on SQLite or PostgreSQL. */
@Injectable()
export class RunsStore {
  private readonly sql: SqlDialect;
  private readonly changedHooks: RunsChangedHook[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(RunRow) private readonly runs: Repository<RunRow>,
    @InjectRepository(RunEventRow) private readonly events: Repository<RunEventRow>,
  ) {
    this.sql = new SqlDialect(dataSource);
  }

  /**
   * A run a box accepted from a console task, stored as `queued` until the box's own report (which
   * replaces every field it carries, upsertRuns) arrives: the run view can open it at once instead of
   * answering 404 for the second or so the report takes. A report that came first is kept as it is.
   */
  async recordAccepted(run: RunRecord, deviceId: string): Promise<void> {
    const params: unknown[] = [];
    const values = this.sql.tuple(params, [
      run.id,
      deviceId,
      run.agentId,
      run.agentVersion,
      JSON.stringify(run.trigger),
      run.status,
      run.input ?? null,
      run.createdAt,
      run.steps,
      run.usage.inputTokens,
      run.usage.outputTokens,
      new Date(),
    ]);
    await this.dataSource.query(
      'INSERT INTO runs (id, device_id, agent_id, agent_version, run_trigger, status, input, created_at, ' +
        `steps, input_tokens, output_tokens, updated_at) VALUES ${values} ON CONFLICT (id) DO NOTHING`,
      params,
    );
  }

  /**
   * Upserts run summaries by id in `manager`'s transaction: the first report fixes the box, a final
   * status is never replaced by a non-final one. Returns the ids of the runs that changed.
   */
  async upsertRuns(manager: EntityManager, incoming: readonly IncomingRun[]): Promise<string[]> {
    // Several reports of one run in a batch: merged first (one statement may not touch a row twice).
    const merged = new Map<string, IncomingRun>();
    for (const item of incoming) {
      const previous = merged.get(item.run.id);
      merged.set(
        item.run.id,
        previous ? { deviceId: previous.deviceId, run: mergeRun(previous.run, item.run) } : item,
      );
    }
    const rows = [...merged.values()];
    const now = new Date();
    const returned = await this.sql.insertRows<IncomingRun, { id: string }>(
      manager,
      rows,
      ROWS_PER_STATEMENT,
      ({ deviceId, run }) => [
        run.id,
        deviceId,
        run.agentId,
        run.agentVersion,
        JSON.stringify(run.trigger),
        run.status,
        run.input ?? null,
        run.output ?? null,
        run.error ?? null,
        run.createdAt,
        run.startedAt ?? null,
        run.endedAt ?? null,
        run.steps,
        run.usage.inputTokens,
        run.usage.outputTokens,
        now,
      ],
      (tuples) =>
        'INSERT INTO runs (id, device_id, agent_id, agent_version, run_trigger, status, input, output, error, ' +
        'created_at, started_at, ended_at, steps, input_tokens, output_tokens, updated_at) VALUES ' +
        tuples +
        ' ON CONFLICT (id) DO UPDATE SET agent_version = excluded.agent_version, run_trigger = excluded.run_trigger, ' +
        'status = excluded.status, input = COALESCE(excluded.input, runs.input), ' +
        'output = COALESCE(excluded.output, runs.output), error = COALESCE(excluded.error, runs.error), ' +
        'started_at = COALESCE(excluded.started_at, runs.started_at), ' +
        'ended_at = COALESCE(excluded.ended_at, runs.ended_at), steps = excluded.steps, ' +
        'input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, updated_at = excluded.updated_at ' +
        `WHERE runs.status NOT IN (${FINAL_SQL}) OR excluded.status IN (${FINAL_SQL}) RETURNING id`,
    );
    return returned.map((row) => row.id);
  }

  /** Inserts run events, skipping (runId, index) pairs already stored; returns the ones inserted. */
  async insertEvents(
    manager: EntityManager,
    incoming: readonly IncomingRunEvent[],
  ): Promise<IncomingRunEvent[]> {
    const rows = uniqueBy(incoming, ({ event }) => `${event.runId}\u0000${event.index}`);
    const returned = await this.sql.insertRows<IncomingRunEvent, { run_id: string; idx: number }>(
      manager,
      rows,
      ROWS_PER_STATEMENT,
      ({ deviceId, event }) => [
        event.runId,
        event.index,
        deviceId,
        event.agentId,
        event.ts,
        event.type,
        event.name ?? null,
        event.data === undefined ? null : JSON.stringify(event.data),
        event.inputTokens ?? null,
        event.outputTokens ?? null,
        event.durationMs ?? null,
        event.error ?? null,
      ],
      (tuples) =>
        'INSERT INTO run_events (run_id, idx, device_id, agent_id, ts, type, name, data, input_tokens, ' +
        'output_tokens, duration_ms, error) VALUES ' +
        tuples +
        ' ON CONFLICT (run_id, idx) DO NOTHING RETURNING run_id, idx',
    );
    const inserted = new Set(returned.map((row) => `${row.run_id}\u0000${Number(row.idx)}`));
    return rows.filter(({ event }) => inserted.has(`${event.runId}\u0000${event.index}`));
  }

  /** Registered by a module ingest cannot depend on (conversations attach a run's answer). */
  onRunsChanged(hook: RunsChangedHook): void {
    this.changedHooks.push(hook);
  }

  /** Runs the hooks over the runs `upsertRuns` changed; returns what to do after the commit. */
  async runsChanged(
    manager: EntityManager,
    incoming: readonly IncomingRun[],
    changedIds: readonly string[],
  ): Promise<Array<() => void>> {
    if (this.changedHooks.length === 0 || changedIds.length === 0) return [];
    const changed = new Set(changedIds);
    const latest = new Map<string, RunRecord>();
    for (const { run } of incoming) {
      if (!changed.has(run.id)) continue;
      const previous = latest.get(run.id);
      latest.set(run.id, previous ? mergeRun(previous, run) : run);
    }
    const after: Array<() => void> = [];
    for (const hook of this.changedHooks) {
      const then = await hook(manager, [...latest.values()]);
      if (then) after.push(then);
    }
    return after;
  }

  findByIds(ids: readonly string[]): Promise<RunRow[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.runs.findBy({ id: In([...ids]) });
  }

  findOne(id: string): Promise<RunRow | null> {
    return this.runs.findOneBy({ id });
  }

  eventsOf(runId: string): Promise<RunEventRow[]> {
    return this.events.find({ where: { runId }, order: { idx: 'ASC' } });
  }

  /** Newest first; `before` pages back through older runs. */
  list(query: RunListQuery): Promise<RunRow[]> {
    return this.runs.find({
      where: {
        ...(query.deviceId ? { deviceId: query.deviceId } : {}),
        ...(query.agentId ? { agentId: query.agentId } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.before ? { createdAt: LessThan(Date.parse(query.before)) } : {}),
      },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: query.limit,
    });
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
