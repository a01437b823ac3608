import { randomUUID } from 'node:crypto';
import type { AgentDefinition } from '@agentbox/schemas';
import type Database from 'better-sqlite3';

export type TokenBudget = AgentDefinition['budget'];

export interface ReserveRequest {
  agentId: string;
  runId: string;
  /** Tokens wanted: the prompt estimate plus the output limit. */
  tokens: number;
  budget: TokenBudget;
  /**
   * When set, a smaller grant down to this many tokens is accepted instead of a refusal, so a run near
   * its budget can still finish with a shorter answer.
   */
  minTokens?: number;
  /** The reservation's id (e.g. the id of the usage record it becomes); a fresh UUID unless given. */
  id?: string;
}

export type ReserveResult =
  | { ok: true; reservationId: string; tokens: number }
  | {
      ok: false;
      budget: 'run' | 'day';
      /** Tokens still free in the budget that refused. */
      remaining: number;
      /** For the day budget: when the next UTC day starts (ms since the epoch). */
      resetsAt?: number;
    };

export interface BudgetLedgerOptions {
  now?: () => number;
  /** Settled entries older than this are dropped when the ledger opens; runs never last that long. */
  keepDays?: number;
}

const DAY_MS = 86_400_000;

/** The UTC day of a time, as YYYY-MM-DD. */
export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

export function nextUtcMidnight(ts: number): number {
  return (Math.floor(ts / DAY_MS) + 1) * DAY_MS;
}

/**
 * Token budgets per agent and UTC day and per run, in SQLite so that a restart keeps the day's usage.
 * A call reserves before it reaches a model and settles with the real usage after, so concurrent
 * calls can never admit more than the budget holds. One ledger per database: opening drops the
 * reservations of calls that a crash left unsettled.
 */
export class BudgetLedger {
  private readonly now: () => number;
  private readonly statements: ReturnType<BudgetLedger['prepare']>;
  private readonly reserveTx: (request: ReserveRequest) => ReserveResult;

  constructor(
    private readonly db: Database.Database,
    options: BudgetLedgerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    db.exec(`
      CREATE TABLE IF NOT EXISTS budget_entries (
        id         TEXT PRIMARY KEY,
        agent_id   TEXT NOT NULL,
        run_id     TEXT NOT NULL,
        day        TEXT NOT NULL,
        tokens     INTEGER NOT NULL,
        -- 1 while the call is in flight (tokens = what it may use), 0 once settled (what it used)
        reserved   INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS budget_entries_by_agent_day ON budget_entries (agent_id, day);
      CREATE INDEX IF NOT EXISTS budget_entries_by_run ON budget_entries (run_id);
    `);
    this.statements = this.prepare();
    const keepMs = (options.keepDays ?? 3) * DAY_MS;
    db.transaction(() => {
      this.statements.dropReservations.run();
      this.statements.dropBefore.run(this.now() - keepMs);
    })();

    const tx = db.transaction((request: ReserveRequest): ReserveResult => {
      const now = this.now();
      const day = utcDay(now);
      const dayUsed = (this.statements.dayTotal.get(request.agentId, day) as { total: number }).total;
      const runUsed = (this.statements.runTotal.get(request.runId) as { total: number }).total;
      const dayRemaining = Math.max(0, request.budget.tokensPerDay - dayUsed);
      const runRemaining = Math.max(0, request.budget.tokensPerRun - runUsed);
      const wanted = Math.max(0, Math.ceil(request.tokens));
      const least = Math.min(wanted, Math.max(0, Math.ceil(request.minTokens ?? wanted)));
      const granted = Math.min(wanted, dayRemaining, runRemaining);
      if (granted < least || (granted === 0 && wanted > 0)) {
        // The day budget is named first: it blocks the whole agent until it reopens.
        return dayRemaining < least
          ? { ok: false, budget: 'day', remaining: dayRemaining, resetsAt: nextUtcMidnight(now) }
          : { ok: false, budget: 'run', remaining: runRemaining };
      }
      const id = request.id ?? randomUUID();
      this.statements.insert.run(id, request.agentId, request.runId, day, granted, now);
      return { ok: true, reservationId: id, tokens: granted };
    });
    // IMMEDIATE takes the write lock before reading, so another connection cannot slip in between.
    this.reserveTx = (request) => tx.immediate(request);
  }

  private prepare() {
    return {
      dropReservations: this.db.prepare('DELETE FROM budget_entries WHERE reserved = 1'),
      dropBefore: this.db.prepare('DELETE FROM budget_entries WHERE created_at < ?'),
      dayTotal: this.db.prepare(
        'SELECT COALESCE(SUM(tokens), 0) AS total FROM budget_entries WHERE agent_id = ? AND day = ?',
      ),
      runTotal: this.db.prepare(
        'SELECT COALESCE(SUM(tokens), 0) AS total FROM budget_entries WHERE run_id = ?',
      ),
      daySettled: this.db.prepare(
        'SELECT COALESCE(SUM(tokens), 0) AS total FROM budget_entries WHERE agent_id = ? AND day = ? AND reserved = 0',
      ),
      runSettled: this.db.prepare(
        'SELECT COALESCE(SUM(tokens), 0) AS total FROM budget_entries WHERE run_id = ? AND reserved = 0',
      ),
      insert: this.db.prepare(
        `INSERT INTO budget_entries (id, agent_id, run_id, day, tokens, reserved, created_at)
         VALUES (?, ?, ?, ?, ?, 1, ?)`,
      ),
      settle: this.db.prepare(
        'UPDATE budget_entries SET tokens = ?, reserved = 0 WHERE id = ? AND reserved = 1',
      ),
      release: this.db.prepare('DELETE FROM budget_entries WHERE id = ? AND reserved = 1'),
    };
  }

  /** Checks the day and run budgets and holds `tokens` (or a clamped grant) in one transaction. */
  reserve(request: ReserveRequest): ReserveResult {
    return this.reserveTx(request);
  }

  /** Replaces a reservation by the tokens really used; false when it was already settled or released. */
  settle(reservationId: string, actualTokens: number): boolean {
    return this.statements.settle.run(Math.max(0, Math.ceil(actualTokens)), reservationId).changes > 0;
  }

  /** Drops a reservation whose call used no tokens. */
  release(reservationId: string): boolean {
    return this.statements.release.run(reservationId).changes > 0;
  }

  /** Settled tokens of the agent in the current UTC day. */
  usedToday(agentId: string): number {
    return (this.statements.daySettled.get(agentId, utcDay(this.now())) as { total: number }).total;
  }

  /** Settled tokens of a run. */
  usedByRun(runId: string): number {
    return (this.statements.runSettled.get(runId) as { total: number }).total;
  }
}
