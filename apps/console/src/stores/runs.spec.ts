// @vitest-environment node
import type { RunEvent, RunRecord } from '@agentbox/schemas';
import { describe, expect, it } from 'vitest';
import type { Run } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { mergeEvents, RUNS_PAGE, runFromRecord, useRunsStore } from './runs';

const T0 = Date.parse('2026-11-27T10:00:00.000Z');

function record(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    agentId: 'daily-report',
    agentVersion: 1,
    trigger: { type: 'message' },
    status: 'running',
    createdAt: T0,
    startedAt: T0,
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    ...overrides,
  };
}

function step(runId: string, index: number, overrides: Partial<RunEvent> = {}): RunEvent {
  return { runId, agentId: 'daily-report', index, ts: T0 + index * 1000, type: 'model', ...overrides };
}

describe('mergeEvents', () => {
  it('orders steps by index and keeps each index once', () => {
    const merged = mergeEvents(
      [step('run-0000000a', 0), step('run-0000000a', 2)],
      [step('run-0000000a', 1), step('run-0000000a', 2, { type: 'text' })],
    );
    expect(merged.map((e) => [e.index, e.type])).toEqual([
      [0, 'model'],
      [1, 'model'],
      [2, 'text'],
    ]);
  });
});

describe('runs store', () => {
  let server: FleetServer;
  let runs: Run[];
  let events: Record<string, RunEvent[]>;

  useFleetServer((fleet) => {
    runs = [];
    events = {};
    server = fleet;
    server.route('GET', '/api/v1/runs', (_req, url) => {
      const q = url.searchParams;
      const limit = Number(q.get('limit') ?? 50);
      const before = q.get('before');
      const page = runs
        .filter((r) => !q.get('deviceId') || r.deviceId === q.get('deviceId'))
        .filter((r) => !q.get('agentId') || r.agentId === q.get('agentId'))
        .filter((r) => !before || Date.parse(r.createdAt) < Date.parse(before))
        .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
        .slice(0, limit);
      return { status: 200, body: page };
    });
    for (const id of ['run-00000001', 'run-00000002']) {
      server.route('GET', `/api/v1/runs/${id}`, () => {
        const run = runs.find((r) => r.id === id);
        return run
          ? { status: 200, body: { ...run, events: events[id] ?? [] } }
          : { status: 404, body: { statusCode: 404, code: 'RUN_NOT_FOUND', message: id } };
      });
    }
  });

  it('loads the history of one box and pages back with `before`', async () => {
    for (let i = 0; i < RUNS_PAGE + 3; i += 1)
      runs.push(
        runFromRecord('box-1', record(`run-${String(i).padStart(8, '0')}`, { createdAt: T0 + i * 1000 })),
      );
    runs.push(runFromRecord('box-2', record('run-other-box')));
    const sut = useRunsStore();

    await sut.loadList({ deviceId: 'box-1' });
    expect(sut.list).toHaveLength(RUNS_PAGE);
    expect(sut.list[0]?.id).toBe(`run-${String(RUNS_PAGE + 2).padStart(8, '0')}`);
    expect(sut.hasMore).toBe(true);

    await sut.loadMore();
    expect(sut.list).toHaveLength(RUNS_PAGE + 3);
    expect(sut.hasMore).toBe(false);
    expect(sut.list.every((r) => r.deviceId === 'box-1')).toBe(true);
    expect(server.requests.at(-1)?.path).toContain('before=');
  });

  it('keeps a failed later page as the list error until the list loads again', async () => {
    for (let i = 0; i < RUNS_PAGE + 1; i += 1)
      runs.push(
        runFromRecord('box-1', record(`run-${String(i).padStart(8, '0')}`, { createdAt: T0 + i * 1000 })),
      );
    const sut = useRunsStore();
    await sut.loadList({ deviceId: 'box-1' });
    server.route('GET', '/api/v1/runs', () => ({
      status: 503,
      body: { statusCode: 503, code: 'UNAVAILABLE', message: 'try later' },
    }));

    await expect(sut.loadMore()).rejects.toThrow('try later');
    expect(sut.listError).toBeInstanceOf(Error);
    expect(sut.list).toHaveLength(RUNS_PAGE);

    server.route('GET', '/api/v1/runs', () => ({ status: 200, body: [] }));
    await sut.loadList({ deviceId: 'box-1' });
    expect(sut.listError).toBeNull();
  });

  it('puts a live run into the list it belongs to, and only that one', async () => {
    const sut = useRunsStore();
    await sut.loadList({ agentId: 'daily-report', deviceId: 'box-1' });
    expect(sut.list).toEqual([]);

    sut.applyLiveEvent({ type: 'run', deviceId: 'box-2', run: record('run-00000009') });
    sut.applyLiveEvent({ type: 'run', deviceId: 'box-1', run: record('run-00000008', { agentId: 'other' }) });
    sut.applyLiveEvent({ type: 'run', deviceId: 'box-1', run: record('run-00000001') });
    expect(sut.list.map((r) => r.id)).toEqual(['run-00000001']);
    expect(sut.list[0]?.createdAt).toBe('2026-11-27T10:00:00.000Z');

    sut.applyLiveEvent({
      type: 'run',
      deviceId: 'box-1',
      run: record('run-00000001', {
        status: 'succeeded',
        endedAt: T0 + 5000,
        usage: { inputTokens: 10, outputTokens: 4 },
      }),
    });
    // A late "running" record (a replay from the box's spool) does not bring an ended run back.
    sut.applyLiveEvent({ type: 'run', deviceId: 'box-1', run: record('run-00000001') });
    expect(sut.list).toHaveLength(1);
    expect(sut.list[0]).toMatchObject({ status: 'succeeded', usage: { inputTokens: 10, outputTokens: 4 } });
  });

  it('follows the run on screen live: steps in order, each once, until it ends', async () => {
    runs.push(runFromRecord('box-1', record('run-00000001')));
    events['run-00000001'] = [step('run-00000001', 0, { type: 'step' })];
    const sut = useRunsStore();
    await sut.loadRun('run-00000001');
    expect(sut.current?.status).toBe('running');
    expect(sut.isLive).toBe(true);
    expect(sut.events).toHaveLength(1);

    sut.applyLiveEvent({
      type: 'run.events',
      deviceId: 'box-1',
      events: [
        step('run-00000001', 2, {
          type: 'tool-call',
          name: 'http.fetch',
          data: { url: 'https://x.example' },
        }),
        step('run-00000001', 1, { type: 'model', name: 'deepseek-chat', inputTokens: 100, outputTokens: 20 }),
        step('run-00000002', 0),
      ],
    });
    sut.applyLiveEvent({ type: 'run.events', deviceId: 'box-1', events: [step('run-00000001', 1)] });
    expect(sut.events.map((e) => e.index)).toEqual([0, 1, 2]);

    sut.applyLiveEvent({
      type: 'run',
      deviceId: 'box-1',
      run: record('run-00000001', { status: 'succeeded', output: 'All good.', endedAt: T0 + 3000 }),
    });
    expect(sut.isLive).toBe(false);
    expect(sut.current?.output).toBe('All good.');
  });

  it('waits for a run the box has not reported yet and shows it when it arrives', async () => {
    const sut = useRunsStore();
    await sut.loadRun('run-00000002');
    expect(sut.currentMissing).toBe(true);
    expect(sut.currentError).toBeNull();

    sut.applyLiveEvent({ type: 'run.events', deviceId: 'box-1', events: [step('run-00000002', 0)] });
    sut.applyLiveEvent({ type: 'run', deviceId: 'box-1', run: record('run-00000002') });
    expect(sut.currentMissing).toBe(false);
    expect(sut.current?.deviceId).toBe('box-1');
    expect(sut.events).toHaveLength(1);

    sut.clearRun();
    sut.applyLiveEvent({ type: 'run', deviceId: 'box-1', run: record('run-00000002') });
    expect(sut.current).toBeNull();
  });
});
