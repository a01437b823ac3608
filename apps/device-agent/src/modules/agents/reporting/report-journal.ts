import type { UsageRecord } from '@agentbox/schemas';
import { UsageRecordSchema } from '@agentbox/schemas';
import type { AgentDatabase } from '../store/agent-database.js';

/** What a journal entry stands for: a run's record, a run's events, or one usage record. */
export type JournalKind = 'run' | 'events' | 'usage';

export interface JournalEntry {
  kind: JournalKind;
  id: string;
  gen: number;
}

/**
 * Which reports are not yet in the spool, in agents.db: marked synchronously when a run or usage
 * record is handed to the reporter (right after the supervisor stored it), cleared once the batch
 * holding it was appended to the spool. After a kill -9 the entries left are sent again from the
 * stores; the cloud keeps the latest run status, each (run, index) once and each usage id once.
 */
export class ReportJournal {
  private gen: number;

  constructor(private readonly db: AgentDatabase) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS report_journal (
        kind    TEXT NOT NULL,
        id      TEXT NOT NULL,
        gen     INTEGER NOT NULL,
        -- usage records are kept whole: they are small, and this needs no query on the usage table
        payload TEXT,
        PRIMARY KEY (kind, id)
      ) WITHOUT ROWID;
    `);
    const row = db.prepare('SELECT max(gen) AS gen FROM report_journal').get() as { gen: number | null };
    this.gen = row.gen ?? 0;
  }

  /** Returns the generation of this mark; clear() with it only clears marks up to it. */
  mark(kind: JournalKind, id: string, payload?: unknown): number {
    this.gen += 1;
    this.db
      .prepare(
        `INSERT INTO report_journal (kind, id, gen, payload) VALUES (?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET gen = excluded.gen, payload = excluded.payload`,
      )
      .run(kind, id, this.gen, payload === undefined ? null : JSON.stringify(payload));
    return this.gen;
  }

  /** Clears the entries marked at or before `gen`: a later mark means a later report is still pending. */
  clear(entries: readonly { kind: JournalKind; id: string }[], gen: number): void {
    const statement = this.db.prepare('DELETE FROM report_journal WHERE kind = ? AND id = ? AND gen <= ?');
    this.db.transaction(() => {
      for (const entry of entries) statement.run(entry.kind, entry.id, gen);
    })();
  }

  /** The newest generation handed out. */
  get currentGen(): number {
    return this.gen;
  }

  ids(kind: 'run' | 'events'): string[] {
    return (
      this.db.prepare('SELECT id FROM report_journal WHERE kind = ? ORDER BY gen').all(kind) as {
        id: string;
      }[]
    ).map((row) => row.id);
  }

  usage(): UsageRecord[] {
    const rows = this.db
      .prepare("SELECT payload FROM report_journal WHERE kind = 'usage' ORDER BY gen")
      .all() as { payload: string | null }[];
    const out: UsageRecord[] = [];
    for (const row of rows) {
      try {
        const parsed = UsageRecordSchema.safeParse(JSON.parse(row.payload ?? 'null'));
        if (parsed.success) out.push(parsed.data);
      } catch {
        // unreadable: nothing to send again
      }
    }
    return out;
  }

  size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM report_journal').get() as { n: number }).n;
  }
}
