import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export type AgentDatabase = Database.Database;

export const AGENTS_DB_FILE = 'agents.db';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many have run. Append only:
 * a box that updates its device agent carries its old database forward through every later step.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    record        TEXT NOT NULL,
    -- the run's record plus its events, in bytes of JSON: what retention by size counts
    bytes         INTEGER NOT NULL DEFAULT 0,
    next_index    INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX runs_by_agent ON runs (agent_id, created_at);
  CREATE INDEX runs_by_status ON runs (status);
  CREATE INDEX runs_by_created ON runs (created_at);

  CREATE TABLE run_events (
    run_id  TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    event   TEXT NOT NULL,
    PRIMARY KEY (run_id, idx)
  ) WITHOUT ROWID;

  CREATE TABLE agent_memory (
    agent_id   TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE installed_agents (
    id           TEXT PRIMARY KEY,
    agent        TEXT NOT NULL,
    installed_at INTEGER NOT NULL
  );

  CREATE TABLE usage_records (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL,
    run_id        TEXT,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    ts            INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    estimated     INTEGER NOT NULL,
    outcome       TEXT NOT NULL
  );
  CREATE INDEX usage_by_agent_ts ON usage_records (agent_id, ts);
  CREATE INDEX usage_by_ts ON usage_records (ts);
  `,
  `
  CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  CREATE INDEX conversations_by_updated ON conversations (updated_at);

  CREATE TABLE conversation_turns (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    run_id          TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    UNIQUE (run_id, role)
  );
  CREATE INDEX conversation_turns_by_conversation ON conversation_turns (conversation_id, id);
  `,
  `
  CREATE TABLE conversation_summaries (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    through_turn_id INTEGER NOT NULL,
    content         TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE agent_db_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  `,
];

export const AGENT_DB_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The oldest schema version whose device agent can still run on a database at AGENT_DB_SCHEMA_VERSION,
 * kept in the database itself (`agent_db_meta.readable_from`). An update migrates agents.db before it
 * proves healthy; rolled back, the previous device agent opens the migrated file (docs/architecture.md,
 * "agents.db"). The migrations so far only add tables, so every version from the one that can read the
 * mark on runs on them. A migration that changes what an older version reads or writes raises it.
 */
const READABLE_FROM = 4;

export interface OpenAgentDatabaseOptions {
  /** How long a statement waits for another connection's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating when needed) `<stateDir>/agents.db`: runs, run events, agent memory, installed
 * agents, usage and conversations. WAL with synchronous=NORMAL: a power cut may lose the last few commits but never
 * corrupts the file, and a commit costs no fsync, which matters on SD cards.
 */
export function openAgentDatabase(stateDir: string, options: OpenAgentDatabaseOptions = {}): AgentDatabase {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, AGENTS_DB_FILE);
  // Runs, agent memory and usage are the box's data: owner only, like its credentials. Created 0600
  // before SQLite opens it (its -wal and -shm files take the database's mode), and an earlier
  // version's 0644 file brought to 0600.
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: AgentDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    const readableFrom = newerReadableFrom(db);
    if (readableFrom === undefined || readableFrom > MIGRATIONS.length) {
      throw new Error(
        `agents.db has schema version ${current}, newer than this device agent knows (${MIGRATIONS.length}), ` +
          `and ${readableFrom === undefined ? 'does not say which older versions can use it' : `needs version ${readableFrom} or newer`}; ` +
          'downgrading the device agent over it is not supported',
      );
    }
    // Rolled back after a newer version migrated the file: its additions are left alone.
    return;
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  db.prepare(
    `INSERT INTO agent_db_meta (key, value) VALUES ('readable_from', ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  ).run(READABLE_FROM);
}

/** What a newer version wrote as the oldest schema that can use its database; undefined when it did not say. */
function newerReadableFrom(db: AgentDatabase): number | undefined {
  try {
    const row = db.prepare("SELECT value FROM agent_db_meta WHERE key = 'readable_from'").get() as
      { value: number } | undefined;
    return row?.value;
  } catch {
    return undefined;
  }
}
