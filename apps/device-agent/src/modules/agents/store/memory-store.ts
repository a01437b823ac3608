import type { AgentDatabase } from './agent-database.js';

export interface MemoryLimits {
  /** Longest key, in characters. */
  maxKeyLength: number;
  /** Largest value, in bytes (UTF-8). */
  maxValueBytes: number;
  /** All of one agent's keys and values together, in bytes. */
  maxTotalBytes: number;
  maxKeys: number;
}

export const DEFAULT_MEMORY_LIMITS: MemoryLimits = {
  maxKeyLength: 200,
  maxValueBytes: 64 * 1024,
  maxTotalBytes: 1024 * 1024,
  maxKeys: 1_000,
};

/** A write the limits refuse; the message tells the agent (and the person reading the run) why. */
export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
}

/** Key-value memory per agent, kept across runs (the `memory` tool); capped so no agent fills the disk. */
export class MemoryStore {
  readonly limits: MemoryLimits;

  constructor(
    private readonly db: AgentDatabase,
    limits: Partial<MemoryLimits> = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_MEMORY_LIMITS, ...limits };
  }

  get(agentId: string, key: string): string | undefined {
    const row = this.db
      .prepare('SELECT value FROM agent_memory WHERE agent_id = ? AND key = ?')
      .get(agentId, key) as { value: string } | undefined;
    return row?.value;
  }

  /** Throws MemoryLimitError when the key, the value or the agent's total would exceed the limits. */
  set(agentId: string, key: string, value: string): void {
    if (key.length === 0 || key.length > this.limits.maxKeyLength) {
      throw new MemoryLimitError(`memory keys are 1-${this.limits.maxKeyLength} characters`);
    }
    const size = Buffer.byteLength(value);
    if (size > this.limits.maxValueBytes) {
      throw new MemoryLimitError(
        `the value is ${size} bytes; a memory value may hold at most ${this.limits.maxValueBytes}`,
      );
    }
    this.db.transaction(() => {
      const usage = this.db
        .prepare(
          `SELECT COUNT(*) AS keys,
                  COALESCE(SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0) AS bytes,
                  COALESCE(SUM(CASE WHEN key = ? THEN length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)) END), 0) AS existing,
                  COALESCE(SUM(key = ?), 0) AS present
           FROM agent_memory WHERE agent_id = ?`,
        )
        .get(key, key, agentId) as { keys: number; bytes: number; existing: number; present: number };
      if (!usage.present && usage.keys >= this.limits.maxKeys) {
        throw new MemoryLimitError(`the agent's memory already holds ${usage.keys} keys (the limit)`);
      }
      const after = usage.bytes - usage.existing + Buffer.byteLength(key) + size;
      if (after > this.limits.maxTotalBytes) {
        throw new MemoryLimitError(
          `the agent's memory would hold ${after} bytes; the limit is ${this.limits.maxTotalBytes}`,
        );
      }
      this.db
        .prepare(
          `INSERT INTO agent_memory (agent_id, key, value, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        )
        .run(agentId, key, value, this.clock());
    })();
  }

  /** True when the key existed. */
  delete(agentId: string, key: string): boolean {
    return (
      this.db.prepare('DELETE FROM agent_memory WHERE agent_id = ? AND key = ?').run(agentId, key).changes > 0
    );
  }

  /** Keys in order, optionally only those starting with `prefix`. */
  keys(agentId: string, prefix = '', limit = 1_000): string[] {
    const rows = this.db
      .prepare(
        `SELECT key FROM agent_memory WHERE agent_id = ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?`,
      )
      .all(agentId, prefix.length, prefix, limit) as { key: string }[];
    return rows.map((row) => row.key);
  }

  /** Forgets everything an agent remembered (the agent was removed). */
  clear(agentId: string): number {
    return this.db.prepare('DELETE FROM agent_memory WHERE agent_id = ?').run(agentId).changes;
  }
}
