import { beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '@agentbox/schemas';
import { useTestDatabase } from '../../../test/support/database.js';
import { RunEventRow } from './run-event.entity.js';
import { RunRow } from './run.entity.js';
import { RunsStore, mergeRun } from './runs.store.js';

const run = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  id: 'run-store-0001',
  agentId: 'news',
  agentVersion: 1,
  trigger: { type: 'cron', detail: '0 * * * *' },
  status: 'running',
  createdAt: 1_000,
  startedAt: 1_100,
  steps: 0,
  usage: { inputTokens: 0, outputTokens: 0 },
  ...overrides,
});

describe('RunsStore', () => {
  const db = useTestDatabase({}, [RunRow, RunEventRow]);
  let sut: RunsStore;

  beforeEach(() => {
    sut = new RunsStore(
      db.dataSource,
      db.dataSource.getRepository(RunRow),
      db.dataSource.getRepository(RunEventRow),
    );
  });

  it('merges reports of one run: later wins, a final status stays, known fields are kept', () => {
    const ended = mergeRun(run({ input: 'hi' }), run({ status: 'failed', error: 'boom', endedAt: 2_000 }));
    expect(ended).toMatchObject({
      status: 'failed',
      input: 'hi',
      error: 'boom',
      startedAt: 1_100,
      endedAt: 2_000,
    });
    expect(mergeRun(ended, run({ status: 'running' }))).toBe(ended);
    expect(mergeRun(run({ status: 'queued' }), run({ status: 'running' })).status).toBe('running');
  });

  it('upserts by id: first box kept, final status never undone, unchanged rows not reported', async () => {
    const upsert = (deviceId: string, record: RunRecord) =>
      sut.transaction((manager) => sut.upsertRuns(manager, [{ deviceId, run: record }]));
    expect(await upsert('box-a', run())).toEqual(['run-store-0001']);
    expect(
      await upsert(
        'box-a',
        run({ status: 'succeeded', output: 'ok', steps: 3, usage: { inputTokens: 9, outputTokens: 4 } }),
      ),
    ).toEqual(['run-store-0001']);
    expect(await upsert('box-b', run({ status: 'running' }))).toEqual([]);
    const stored = await sut.findOne('run-store-0001');
    expect(stored).toMatchObject({
      deviceId: 'box-a',
      status: 'succeeded',
      output: 'ok',
      steps: 3,
      inputTokens: 9,
      outputTokens: 4,
      startedAt: 1_100,
      trigger: { type: 'cron', detail: '0 * * * *' },
    });

    // Both reports in one batch: merged before the statement.
    const both = await sut.transaction((manager) =>
      sut.upsertRuns(manager, [
        { deviceId: 'box-a', run: run({ id: 'run-store-0002', status: 'interrupted' }) },
        { deviceId: 'box-a', run: run({ id: 'run-store-0002', status: 'running' }) },
      ]),
    );
    expect(both).toEqual(['run-store-0002']);
    expect((await sut.findOne('run-store-0002'))?.status).toBe('interrupted');
  });

  it('keeps each (runId, index) once', async () => {
    const event = (index: number) => ({
      deviceId: 'box-a',
      event: {
        runId: 'run-store-0001',
        agentId: 'news',
        index,
        ts: 5 + index,
        type: 'text' as const,
        data: { t: index },
      },
    });
    const first = await sut.transaction((manager) =>
      sut.insertEvents(manager, [event(0), event(1), event(1)]),
    );
    expect(first.map((e) => e.event.index)).toEqual([0, 1]);
    const second = await sut.transaction((manager) => sut.insertEvents(manager, [event(1), event(2)]));
    expect(second.map((e) => e.event.index)).toEqual([2]);
    expect((await sut.eventsOf('run-store-0001')).map((row) => [row.idx, row.data])).toEqual([
      [0, { t: 0 }],
      [1, { t: 1 }],
      [2, { t: 2 }],
    ]);
  });
});
