import {
  FINAL_RUN_STATUSES,
  RunEventSchema,
  RunRecordSchema,
  type RunEvent,
  type RunRecord,
  type RunStatus,
} from '@agentbox/schemas';
import type { AgentDatabase } from './agent-database.js';
import { whereClause } from './sql-where.js';

const DAY_MS = 86_400_000;
const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export interface RunListQuery {
  agentId?: string;
  status?: RunStatus;
  /** Runs created strictly before this time (paging backwards). */
  before?: number;
  limit?: number;
}

export interface RetentionPolicy {
  /** Finished runs older than this many days are deleted. */
  maxAgeDays: number;
  /** Then the oldest finished runs go until the history (records + events, as JSON) fits. */
  maxBytes: number;
}

export interface PruneResult {
  deletedRuns: number;
  remainingBytes: number;
}

/** An event as the supervisor hands it over; the store assigns its index. */
export type NewRunEvent = Omit<RunEvent, 'index'>;

interface RunRow {
  record: string;
}

/**
 * Runs and their events in agents.db. A run's record is kept whole as JSON (validated when read
 * back); status and times sit in their own columns for queries, retention and crash recovery.
 */
export class RunStore {
  constructor(
    private readonly db: AgentDatabase,
    private readonly clock: () => number = Date.now,
  ) {}

  create(record: RunRecord): void {
    const json = JSON.stringify(RunRecordSchema.parse(record));
    this.db
      .prepare('INSERT INTO runs (id, agent_id, status, created_at, record, bytes) VALUES (?, ?, ?, ?, ?, ?)')
      .run(record.id, record.agentId, record.status, record.createdAt, json, Buffer.byteLength(json));
  }

  /** Replaces a run's record (its status, output, usage...). Throws when the run is unknown. */
  update(record: RunRecord): void {
    const json = JSON.stringify(RunRecordSchema.parse(record));
    const result = this.db
      .prepare(
        `UPDATE runs SET status = ?, record = ?,
           bytes = bytes - length(CAST(record AS BLOB)) + ?
         WHERE id = ?`,
      )
      .run(record.status, json, Buffer.byteLength(json), record.id);
    if (result.changes === 0) throw new Error(`run ${record.id} is not in the store`);
  }

  get(runId: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT record FROM runs WHERE id = ?').get(runId) as RunRow | undefined;
    return row ? parseRecord(row.record) : undefined;
  }

  /** Newest first. */
  list(query: RunListQuery = {}): RunRecord[] {
    const { where, params } = whereClause([
      ['agent_id = ?', query.agentId],
      ['status = ?', query.status],
      ['created_at < ?', query.before],
    ]);
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1_000);
    const rows = this.db
      .prepare(
        `SELECT record FROM runs ${where}
         ORDER BY created_at DESC, rowid DESC LIMIT ${limit}`,
      )
      .all(...params) as RunRow[];
    return rows.map((row) => parseRecord(row.record));
  }

  /** Stores the event under the run's next index (0, 1, 2...) and returns it with that index. */
  appendEvent(event: NewRunEvent): RunEvent {
    return this.db.transaction((): RunEvent => {
      const run = this.db.prepare('SELECT next_index FROM runs WHERE id = ?').get(event.runId) as
        { next_index: number } | undefined;
      if (!run) throw new Error(`run ${event.runId} is not in the store`);
      const stored = RunEventSchema.parse({ ...event, index: run.next_index });
      const json = JSON.stringify(stored);
      this.db
        .prepare('INSERT INTO run_events (run_id, idx, event) VALUES (?, ?, ?)')
        .run(stored.runId, stored.index, json);
      this.db
        .prepare('UPDATE runs SET next_index = next_index + 1, bytes = bytes + ? WHERE id = ?')
        .run(Buffer.byteLength(json), stored.runId);
      return stored;
    })();
  }

  events(runId: string): RunEvent[] {
    const rows = this.db.prepare('SELECT event FROM run_events WHERE run_id = ? ORDER BY idx').all(runId) as {
      event: string;
    }[];
    return rows.map((row) => RunEventSchema.parse(JSON.parse(row.event)));
  }

  /**
   * After the device agent stopped without closing its runs (crash, power cut, kill -9): every run
   * left queued or running is marked interrupted with `reason`. Returns the updated records so the
   * caller can report them.
   */
  interruptStale(reason: string): RunRecord[] {
    const now = this.clock();
    return this.db.transaction((): RunRecord[] => {
      const rows = this.db
        .prepare(
          `SELECT id, record FROM runs WHERE status IN (${ACTIVE_STATUSES.map(() => '?').join(', ')})
           ORDER BY created_at, rowid`,
        )
        .all(...ACTIVE_STATUSES) as (RunRow & { id: string })[];
      const updated: RunRecord[] = [];
      for (const row of rows) {
        const record = parseRecordLenient(row.record);
        if (!record) {
          // Unreadable, so it cannot be reported; still, nothing may stay "running".
          this.db.prepare("UPDATE runs SET status = 'interrupted' WHERE id = ?").run(row.id);
          continue;
        }
        const interrupted: RunRecord = {
          ...record,
          status: 'interrupted',
          error: reason.slice(0, 2_000),
          endedAt: Math.max(now, record.startedAt ?? record.createdAt),
        };
        this.update(interrupted);
        updated.push(interrupted);
      }
      return updated;
    })();
  }

  /** Total size of the stored history (records + events, as JSON). */
  totalBytes(): number {
    const row = this.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS total FROM runs').get() as {
      total: number;
    };
    return row.total;
  }

  /**
   * Retention: deletes finished runs (with their events) older than `maxAgeDays`, then the oldest
   * finished runs until the history fits in `maxBytes`. Runs still queued or running are kept.
   */
  prune(policy: RetentionPolicy): PruneResult {
    const finished = FINAL_RUN_STATUSES.map(() => '?').join(', ');
    return this.db.transaction((): PruneResult => {
      const cutoff = this.clock() - policy.maxAgeDays * DAY_MS;
      const old = this.db
        .prepare(`SELECT id FROM runs WHERE created_at < ? AND status IN (${finished})`)
        .all(cutoff, ...FINAL_RUN_STATUSES) as { id: string }[];
      let deleted = 0;
      for (const { id } of old) deleted += this.deleteRun(id);

      let total = this.totalBytes();
      if (total > policy.maxBytes) {
        const oldest = this.db
          .prepare(`SELECT id, bytes FROM runs WHERE status IN (${finished}) ORDER BY created_at, rowid`)
          .iterate(...FINAL_RUN_STATUSES) as IterableIterator<{ id: string; bytes: number }>;
        const victims: { id: string; bytes: number }[] = [];
        for (const row of oldest) {
          if (total <= policy.maxBytes) break;
          victims.push(row);
          total -= row.bytes;
        }
        for (const victim of victims) deleted += this.deleteRun(victim.id);
      }
      return { deletedRuns: deleted, remainingBytes: this.totalBytes() };
    })();
  }

  private deleteRun(runId: string): number {
    this.db.prepare('DELETE FROM run_events WHERE run_id = ?').run(runId);
    return this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId).changes;
  }
}

function parseRecord(json: string): RunRecord {
  return RunRecordSchema.parse(JSON.parse(json));
}

function parseRecordLenient(json: string): RunRecord | undefined {
  try {
    return parseRecord(json);
  } catch {
    return undefined;
  }
}
