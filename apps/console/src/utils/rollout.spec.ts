import { describe, expect, it } from 'vitest';
import type { RolloutBox, RolloutDetail } from '@/api/ota-types';
import {
  formatBytes,
  groupCounts,
  phaseOrderProblems,
  statusTimeline,
  STANDARD_PHASES,
  toPhases,
} from './rollout';

function box(
  deviceId: string,
  status: RolloutBox['status'],
  offeredAt: string | null,
  updatedAt: string,
): RolloutBox {
  return {
    deviceId,
    phase: 0,
    status,
    reason: null,
    detail: null,
    progress: null,
    attempt: 1,
    offeredAt,
    updatedAt,
  };
}

const T = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s)).toISOString();

describe('rollout helpers', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(38 * 1024 * 1024 + 300_000)).toBe('38.3 MiB');
  });

  it('groups statuses: every box counted once', () => {
    expect(
      groupCounts({ pending: 2, downloading: 1, installing: 1, healthy: 3, 'rolled-back': 1, rejected: 1 }),
    ).toEqual({
      pending: 2,
      'in-progress': 2,
      healthy: 3,
      failed: 2,
      canceled: 0,
    });
  });

  it('rebuilds statuses over time from offer and last change of every box', () => {
    const detail = {
      createdAt: T(0),
      startedAt: T(10),
      endedAt: null,
      boxes: [
        box('a', 'healthy', T(10), T(40)),
        box('b', 'rolled-back', T(50), T(90)),
        box('c', 'downloading', T(50), T(60)),
        box('d', 'pending', null, T(0)),
      ],
    } as unknown as RolloutDetail;
    const points = statusTimeline(detail, Date.parse(T(100)));
    expect(points.map((p) => [(p.at - Date.parse(T(0))) / 1000, p.counts])).toEqual([
      [10, { pending: 3, 'in-progress': 1, healthy: 0, failed: 0, canceled: 0 }],
      [40, { pending: 3, 'in-progress': 0, healthy: 1, failed: 0, canceled: 0 }],
      [50, { pending: 1, 'in-progress': 2, healthy: 1, failed: 0, canceled: 0 }],
      [90, { pending: 1, 'in-progress': 1, healthy: 1, failed: 1, canceled: 0 }],
      [100, { pending: 1, 'in-progress': 1, healthy: 1, failed: 1, canceled: 0 }],
    ]);
  });

  it('accepts cumulative phases ending at every box and names what is out of order otherwise', () => {
    expect(STANDARD_PHASES.map((p) => p.name)).toEqual(['canary', '10%', '50%', '100%']);
    const good = [
      { name: 'one', kind: 'count' as const, value: 1 },
      { name: 'half', kind: 'percent' as const, value: 50 },
      { name: 'all', kind: 'percent' as const, value: 100 },
    ];
    expect(phaseOrderProblems(good)).toEqual([]);
    expect(toPhases(good)).toEqual([
      { name: 'one', count: 1 },
      { name: 'half', percent: 50 },
      { name: 'all', percent: 100 },
    ]);
    // A phase without a name and no phases at all are the request schema's (rollout-draft.spec.ts).
    expect(
      phaseOrderProblems([
        { name: 'half', kind: 'percent', value: 50 },
        { name: '', kind: 'percent', value: 20 },
      ]),
    ).toEqual(['rolloutWizard.problems.notCumulative', 'rolloutWizard.problems.lastNotAll']);
  });
});
