// @vitest-environment node
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import type { RolloutCreateBody, RolloutDetail } from '@/api/ota-types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useRolloutsStore } from './rollouts';

const RELEASE = '00000000-0000-4000-8000-0000000000aa';
const settings: Omit<RolloutCreateBody, 'releaseId'> = {
  targets: { all: true },
  phases: [
    { name: 'canary', count: 1 },
    { name: 'all', percent: 100 },
  ],
  successThresholdPct: 100,
  autoAdvance: true,
  abort: { failurePct: 50, minFinished: 1 },
  perBoxTimeoutSec: 3600,
  force: false,
  maxWaitSec: 600,
  healthDeadlineSec: 120,
};

describe('rollouts store', () => {
  let server: FleetServer;
  let rollouts: Map<string, RolloutDetail>;
  let detailFetches: number;
  let release: (() => void) | null;

  const refuse = (status: number, code: string, message: string) => ({
    status,
    body: { statusCode: status, code, message },
  });

  function summary({ phases: _p, boxes: _b, ...rest }: RolloutDetail) {
    return rest;
  }

  function routeRollout(id: string): void {
    server.route('GET', `/api/v1/rollouts/${id}`, async () => {
      detailFetches += 1;
      // A test may hold the answer back to see what several events in the meantime cost.
      if (release) await new Promise<void>((resolve) => (release = resolve));
      return { status: 200, body: rollouts.get(id) };
    });
    const transitions: Record<string, [from: string[], to: RolloutDetail['status']]> = {
      start: [['draft'], 'running'],
      pause: [['running'], 'paused'],
      resume: [['paused'], 'running'],
      cancel: [['draft', 'running', 'paused'], 'canceled'],
      'retry-failed': [['running', 'paused', 'aborted'], 'running'],
    };
    for (const [action, [from, to]] of Object.entries(transitions)) {
      server.route('POST', `/api/v1/rollouts/${id}/${action}`, () => {
        const current = rollouts.get(id)!;
        if (!from.includes(current.status))
          return refuse(409, 'ROLLOUT_INVALID_TRANSITION', `cannot ${action} a ${current.status} rollout`);
        const next: RolloutDetail = {
          ...current,
          status: to,
          pauseReason: to === 'paused' ? 'operator' : null,
          startedAt: current.startedAt ?? '2026-11-01T00:01:00.000Z',
        };
        rollouts.set(id, next);
        return { status: 200, body: next };
      });
    }
  }

  useFleetServer((fleet) => {
    rollouts = new Map();
    detailFetches = 0;
    release = null;
    server = fleet;
    server.route('GET', '/api/v1/rollouts', () => ({
      status: 200,
      body: [...rollouts.values()].map(summary),
    }));
    server.route('POST', '/api/v1/rollouts', (_req, _url, body) => {
      const request = JSON.parse(body) as RolloutCreateBody;
      if (request.releaseId !== RELEASE) return refuse(409, 'ROLLOUT_RELEASE_NOT_READY', 'no bundle yet');
      const id = `00000000-0000-4000-8000-00000000000${rollouts.size + 1}`;
      const { releaseId, ...rest } = request;
      const detail: RolloutDetail = {
        id,
        releaseId,
        releaseVersion: '1.5.0',
        status: 'draft',
        pauseReason: null,
        phase: 0,
        settings: rest,
        totalBoxes: 3,
        counts: { pending: 3 },
        createdBy: 'ops',
        createdAt: new Date(Date.UTC(2026, 10, 1, 0, rollouts.size)).toISOString(),
        startedAt: null,
        endedAt: null,
        updatedAt: '2026-11-01T00:00:00.000Z',
        phases: [
          { index: 0, name: 'canary', start: 0, end: 1, counts: { pending: 1 } },
          { index: 1, name: 'all', start: 1, end: 3, counts: { pending: 2 } },
        ],
        boxes: ['b1', 'b2', 'b3'].map((deviceId, i) => ({
          deviceId,
          phase: i === 0 ? 0 : 1,
          status: 'pending' as const,
          reason: null,
          detail: null,
          progress: null,
          attempt: 0,
          offeredAt: null,
          updatedAt: '2026-11-01T00:00:00.000Z',
        })),
      };
      rollouts.set(id, detail);
      routeRollout(id);
      return { status: 201, body: detail };
    });
  });

  it('creates a rollout with every setting and lists it newest first', async () => {
    const sut = useRolloutsStore();
    const first = await sut.create({ releaseId: RELEASE, ...settings });
    const second = await sut.create({ releaseId: RELEASE, ...settings, targets: { tags: ['edge'] } });
    const sent = JSON.parse(server.requests.find((r) => r.method === 'POST')!.body) as RolloutCreateBody;
    expect(sent).toEqual({ releaseId: RELEASE, ...settings });

    setActivePinia(createPinia());
    const fresh = useRolloutsStore();
    await fresh.fetchAll();
    expect(fresh.all.map((r) => r.id)).toEqual([second.id, first.id]);
    expect(fresh.get(first.id)).not.toHaveProperty('boxes');
  });

  it('reports why a rollout cannot be created', async () => {
    const sut = useRolloutsStore();
    await expect(sut.create({ releaseId: 'other', ...settings })).rejects.toMatchObject({
      code: 'ROLLOUT_RELEASE_NOT_READY',
      statusCode: 409,
    });
  });

  it('starts, pauses, resumes and cancels, refusing what does not fit the status', async () => {
    const sut = useRolloutsStore();
    const { id } = await sut.create({ releaseId: RELEASE, ...settings });
    await sut.fetchAll();
    await sut.load(id);
    expect(sut.current?.status).toBe('draft');

    await sut.act(id, 'start');
    expect(sut.current?.status).toBe('running');
    await expect(sut.act(id, 'resume')).rejects.toMatchObject({ code: 'ROLLOUT_INVALID_TRANSITION' });
    await sut.act(id, 'pause');
    expect(sut.current).toMatchObject({ status: 'paused', pauseReason: 'operator' });
    expect(sut.get(id)?.status).toBe('paused');
    await sut.act(id, 'resume');
    await sut.act(id, 'cancel');
    expect(sut.current?.status).toBe('canceled');
    expect(sut.get(id)?.status).toBe('canceled');
  });

  it('takes the watched rollout again on its live events, a burst costing at most two fetches', async () => {
    const sut = useRolloutsStore();
    const { id } = await sut.create({ releaseId: RELEASE, ...settings });
    const { id: other } = await sut.create({ releaseId: RELEASE, ...settings });
    await sut.load(id);
    detailFetches = 0;

    rollouts.set(id, {
      ...rollouts.get(id)!,
      status: 'running',
      counts: { healthy: 1, pending: 2 },
    });
    release = () => undefined;
    const burst = Array.from({ length: 20 }, () => sut.applyLiveEvent({ type: 'rollout', rolloutId: id }));
    await sut.applyLiveEvent({ type: 'rollout', rolloutId: other });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const held = release;
    release = null;
    held();
    await Promise.all(burst);

    expect(detailFetches).toBe(2);
    expect(sut.current).toMatchObject({ status: 'running', counts: { healthy: 1, pending: 2 } });
  });

  it('marks a rollout that does not exist as missing', async () => {
    const sut = useRolloutsStore();
    await sut.load('00000000-0000-4000-8000-00000000dead');
    expect(sut.currentMissing).toBe(true);
    expect(sut.current).toBeNull();
  });
});
