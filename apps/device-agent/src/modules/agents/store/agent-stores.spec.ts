import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { DesiredAgentSchema, type RunRecord } from '@agentbox/schemas';
import { AGENT_DB_SCHEMA_VERSION, openAgentDatabase } from './agent-database.js';
import { openAgentStores, type AgentStores } from './agent-stores.js';
import { MemoryLimitError } from './memory-store.js';
import { runRecord, usageRecord } from '../../../../test/support/agent-fixtures.js';

const DAY = 86_400_000;

/** A finished run of agent `watcher`, started from the console, created at `createdAt`. */
const storedRun = (id: string, createdAt: number, patch: Partial<RunRecord> = {}): RunRecord =>
  runRecord(id, 'succeeded', { agentId: 'watcher', trigger: { type: 'message' }, createdAt, ...patch });

describe('agent stores', () => {
  const dir = useTempDir('agent-stores-');
  let now: number;
  let sut: AgentStores;

  beforeEach(() => {
    now = Date.UTC(2026, 0, 10, 12);
    sut = openAgentStores(dir.path, { clock: () => now });
  });

  afterEach(() => {
    sut.close();
  });

  it('opens agents.db in WAL mode at the current schema version, and reopens it unchanged', () => {
    expect(sut.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sut.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(sut.db.pragma('user_version', { simple: true })).toBe(AGENT_DB_SCHEMA_VERSION);
    sut.runs.create(storedRun('run-0001', now));
    sut.close();

    sut = openAgentStores(dir.path);
    expect(sut.runs.get('run-0001')?.status).toBe('succeeded');
  });

  it('keeps agents.db and its WAL files readable by the agent user only, even one left 0644', () => {
    sut.runs.create(storedRun('run-0002', now));
    const modes = () =>
      ['agents.db', 'agents.db-wal', 'agents.db-shm']
        .filter((file) => existsSync(join(dir.path, file)))
        .map((file) => [file, (statSync(join(dir.path, file)).mode & 0o777).toString(8)]);
    expect(modes()).toEqual([
      ['agents.db', '600'],
      ['agents.db-wal', '600'],
      ['agents.db-shm', '600'],
    ]);
    sut.close();
    chmodSync(join(dir.path, 'agents.db'), 0o644);
    sut = openAgentStores(dir.path);
    expect(modes()[0]).toEqual(['agents.db', '600']);
  });

  it('runs on a newer database that says this version can use it, and refuses one that does not', () => {
    // A rollback after an update migrated agents.db: the newer version left a mark saying who can read it.
    const mark = (value: number) =>
      sut.db.prepare("UPDATE agent_db_meta SET value = ? WHERE key = 'readable_from'").run(value);
    sut.db.pragma(`user_version = ${AGENT_DB_SCHEMA_VERSION + 1}`);
    mark(AGENT_DB_SCHEMA_VERSION);
    const older = openAgentDatabase(dir.path);
    expect(older.pragma('user_version', { simple: true })).toBe(AGENT_DB_SCHEMA_VERSION + 1);
    older.close();

    mark(AGENT_DB_SCHEMA_VERSION + 1);
    expect(() => openAgentDatabase(dir.path)).toThrow(/needs version \d+ or newer/);
    sut.db.exec('DROP TABLE agent_db_meta');
    expect(() => openAgentDatabase(dir.path)).toThrow(/does not say which older versions can use it/);
  });

  it('marks the oldest schema that can use the database when it migrates', () => {
    const row = sut.db.prepare("SELECT value FROM agent_db_meta WHERE key = 'readable_from'").get() as {
      value: number;
    };
    expect(row.value).toBeLessThanOrEqual(AGENT_DB_SCHEMA_VERSION);
  });

  it('keeps run events in order with a per-run index', () => {
    sut.runs.create(storedRun('run-aaaa1', now, { status: 'running' }));
    sut.runs.create(storedRun('run-bbbb1', now, { status: 'running' }));
    const first = sut.runs.appendEvent({
      runId: 'run-aaaa1',
      agentId: 'watcher',
      ts: now,
      type: 'status',
      name: 'running',
    });
    sut.runs.appendEvent({
      runId: 'run-bbbb1',
      agentId: 'watcher',
      ts: now,
      type: 'status',
      name: 'running',
    });
    const second = sut.runs.appendEvent({
      runId: 'run-aaaa1',
      agentId: 'watcher',
      ts: now,
      type: 'model',
      name: 'm',
      inputTokens: 3,
    });

    expect([first.index, second.index]).toEqual([0, 1]);
    expect(sut.runs.events('run-aaaa1').map((e) => [e.index, e.type])).toEqual([
      [0, 'status'],
      [1, 'model'],
    ]);
    expect(sut.runs.events('run-bbbb1').map((e) => e.index)).toEqual([0]);
    expect(() =>
      sut.runs.appendEvent({ runId: 'run-none1', agentId: 'watcher', ts: now, type: 'text' }),
    ).toThrow(/not in the store/);
  });

  it('updates a run and lists newest first, by agent and status', () => {
    sut.runs.create(storedRun('run-old01', now - 2, { status: 'running' }));
    sut.runs.create(storedRun('run-new01', now - 1, { agentId: 'other' }));
    sut.runs.update({ ...sut.runs.get('run-old01')!, status: 'failed', error: 'boom' });

    expect(sut.runs.list().map((r) => r.id)).toEqual(['run-new01', 'run-old01']);
    expect(sut.runs.list({ agentId: 'watcher' }).map((r) => [r.id, r.status, r.error])).toEqual([
      ['run-old01', 'failed', 'boom'],
    ]);
    expect(sut.runs.list({ status: 'succeeded' }).map((r) => r.id)).toEqual(['run-new01']);
    expect(() => sut.runs.update(storedRun('run-none1', now))).toThrow(/not in the store/);
  });

  it('marks runs left queued or running as interrupted after a crash, and only those', () => {
    sut.runs.create(storedRun('run-run01', now - 10, { status: 'running', startedAt: now - 10 }));
    sut.runs.create(storedRun('run-que01', now - 5, { status: 'queued' }));
    sut.runs.create(storedRun('run-don01', now - 20));
    sut.close();

    // The device agent comes back after a crash with the rows as it left them.
    sut = openAgentStores(dir.path, { clock: () => now });
    const interrupted = sut.runs.interruptStale('the device agent stopped while the run was in progress');

    expect(interrupted.map((r) => r.id)).toEqual(['run-run01', 'run-que01']);
    expect(sut.runs.get('run-run01')).toMatchObject({
      status: 'interrupted',
      error: 'the device agent stopped while the run was in progress',
      endedAt: now,
    });
    expect(sut.runs.get('run-don01')?.status).toBe('succeeded');
    expect(sut.runs.interruptStale('again')).toEqual([]);
  });

  it('retention deletes finished runs older than the age limit, then the oldest until the size fits', () => {
    sut.runs.create(storedRun('run-ancient', now - 40 * DAY));
    sut.runs.create(storedRun('run-active1', now - 50 * DAY, { status: 'running' }));
    for (let i = 0; i < 10; i++) {
      sut.runs.create(storedRun(`run-recent${i}`, now - (10 - i) * 1_000));
      sut.runs.appendEvent({
        runId: `run-recent${i}`,
        agentId: 'watcher',
        ts: now,
        type: 'text',
        data: 'x'.repeat(1_000),
      });
    }
    const perRun = (sut.runs.totalBytes() - 2 * JSON.stringify(storedRun('run-ancient', 0)).length) / 10;

    const result = sut.runs.prune({ maxAgeDays: 30, maxBytes: Math.ceil(perRun * 4.5) });

    expect(sut.runs.get('run-ancient')).toBeUndefined();
    expect(sut.runs.get('run-active1')?.status).toBe('running');
    const kept = sut.runs.list({ limit: 100 }).map((r) => r.id);
    expect(kept).toEqual(['run-recent9', 'run-recent8', 'run-recent7', 'run-recent6', 'run-active1']);
    expect(sut.runs.events('run-recent0')).toEqual([]);
    expect(result.deletedRuns).toBe(7);
    expect(result.remainingBytes).toBeLessThanOrEqual(Math.ceil(perRun * 4.5));
  });

  it('agent memory is per agent and capped', () => {
    sut.close();
    sut = openAgentStores(dir.path, { memoryLimits: { maxValueBytes: 10, maxTotalBytes: 25, maxKeys: 3 } });
    sut.memory.set('a', 'k1', 'v1');
    sut.memory.set('b', 'k1', 'other');
    sut.memory.set('a', 'k1', 'v1b');

    expect(sut.memory.get('a', 'k1')).toBe('v1b');
    expect(sut.memory.get('b', 'k1')).toBe('other');
    expect(() => sut.memory.set('a', 'k2', 'x'.repeat(11))).toThrow(MemoryLimitError);
    sut.memory.set('a', 'k2', 'x'.repeat(10));
    expect(() => sut.memory.set('a', 'k3', 'x'.repeat(10))).toThrow(/would hold 29 bytes/);
    sut.memory.set('a', 'k3', 'y');
    expect(() => sut.memory.set('a', 'k4', 'z')).toThrow(/3 keys/);
    expect(sut.memory.keys('a')).toEqual(['k1', 'k2', 'k3']);
    expect(sut.memory.keys('a', 'k2')).toEqual(['k2']);
    expect(sut.memory.delete('a', 'k2')).toBe(true);
    expect(sut.memory.delete('a', 'k2')).toBe(false);
    expect(sut.memory.clear('a')).toBe(2);
    expect(sut.memory.keys('b')).toEqual(['k1']);
  });

  it('installed agents round-trip, and a damaged row reads as not installed', () => {
    const agent = DesiredAgentSchema.parse({
      id: 'watcher',
      version: 3,
      definition: { name: 'W', instructions: 'watch', model: { provider: 'p', model: 'm' } },
    });
    sut.installed.put(agent, 1_000);
    sut.installed.put({ ...agent, id: 'second' }, 2_000);
    sut.db.prepare("UPDATE installed_agents SET agent = '{\"id\":1}' WHERE id = 'second'").run();

    expect(sut.installed.list()).toEqual([{ agent, installedAt: 1_000 }]);
    expect(sut.installed.get('second')).toBeUndefined();
    expect(sut.installed.remove('watcher')).toBe(true);
    expect(sut.installed.list()).toEqual([]);
  });

  it('usage records count once per id', () => {
    const usage = usageRecord('usage-0001', { agentId: 'watcher', runId: 'run-0001', ts: now });
    expect(sut.usage.record(usage)).toBe(true);
    expect(sut.usage.record(usage)).toBe(false);
    sut.usage.record({ ...usage, id: 'usage-0002', agentId: 'other', ts: now - DAY });

    expect(sut.usage.totals()).toEqual({ inputTokens: 20, outputTokens: 10 });
    expect(sut.usage.totals({ agentId: 'watcher', since: now - 1 })).toEqual({
      inputTokens: 10,
      outputTokens: 5,
    });
    expect(sut.usage.totalsByAgent({ since: now - 1 }).get('other')).toBeUndefined();
    expect(sut.usage.list({ agentId: 'watcher' })).toEqual([usage]);
    expect(sut.usage.prune(now - 1)).toBe(1);
  });
});
