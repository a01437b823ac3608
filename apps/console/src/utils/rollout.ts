import type { RolloutBoxStatus, RolloutCreateBody, RolloutDetail } from '@/api/ota-types';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** How the chart and the progress bars group hawkBit's statuses. */
export const STATUS_GROUPS = ['pending', 'in-progress', 'healthy', 'failed', 'canceled'] as const;
export type StatusGroup = (typeof STATUS_GROUPS)[number];

export function groupOf(status: RolloutBoxStatus): StatusGroup {
  switch (status) {
    case 'pending':
      return 'pending';
    case 'scheduled':
    case 'downloading':
    case 'downloaded':
    case 'installing':
    case 'rebooting':
      return 'in-progress';
    case 'healthy':
      return 'healthy';
    case 'rolled-back':
    case 'failed':
    case 'rejected':
      return 'failed';
    case 'canceled':
      return 'canceled';
  }
}

export const GROUP_COLORS: Record<StatusGroup, string> = {
  pending: '#c2c7cc',
  'in-progress': '#2080f0',
  healthy: '#18a058',
  failed: '#d03050',
  canceled: '#909399',
};

export type GroupCounts = Record<StatusGroup, number>;

export function groupCounts(counts: Record<string, number>): GroupCounts {
  const out: GroupCounts = { pending: 0, 'in-progress': 0, healthy: 0, failed: 0, canceled: 0 };
  for (const [status, n] of Object.entries(counts)) out[groupOf(status as RolloutBoxStatus)] += n;
  return out;
}

export interface TimelinePoint {
  at: number;
  counts: GroupCounts;
}

/**
 * Box statuses over time, rebuilt from each box's offer time and last change: pending until offered, in
 * progress until its last report, then what it reports now. Coarse for boxes still moving, exact for
 * finished ones, and the same for everyone who opens the page.
 */
export function statusTimeline(detail: RolloutDetail, now: number): TimelinePoint[] {
  const changes: { at: number; from: StatusGroup; to: StatusGroup }[] = [];
  for (const box of detail.boxes) {
    const final = groupOf(box.status);
    if (box.offeredAt === null) {
      if (final !== 'pending') changes.push({ at: Date.parse(box.updatedAt), from: 'pending', to: final });
      continue;
    }
    const offered = Date.parse(box.offeredAt);
    const updated = Math.max(offered, Date.parse(box.updatedAt));
    if (final === 'in-progress' || updated === offered) {
      changes.push({ at: offered, from: 'pending', to: final });
    } else {
      changes.push({ at: offered, from: 'pending', to: 'in-progress' });
      changes.push({ at: updated, from: 'in-progress', to: final });
    }
  }
  changes.sort((a, b) => a.at - b.at);
  const start = Date.parse(detail.startedAt ?? detail.createdAt);
  const counts: GroupCounts = {
    pending: detail.boxes.length,
    'in-progress': 0,
    healthy: 0,
    failed: 0,
    canceled: 0,
  };
  const points: TimelinePoint[] = [{ at: Math.min(start, changes[0]?.at ?? start), counts: { ...counts } }];
  for (const change of changes) {
    counts[change.from] -= 1;
    counts[change.to] += 1;
    const last = points[points.length - 1]!;
    if (last.at === change.at) last.counts = { ...counts };
    else points.push({ at: change.at, counts: { ...counts } });
  }
  const end = detail.endedAt === null ? now : Date.parse(detail.endedAt);
  if (end > points[points.length - 1]!.at) points.push({ at: end, counts: { ...counts } });
  return points;
}

export type Phases = Extract<RolloutCreateBody['phases'], unknown[]>;

/** 1 box, then 10 %, 50 % and everyone: a canary before any share of the fleet. */
export const STANDARD_PHASES: Phases = [
  { name: 'canary', count: 1 },
  { name: '10%', percent: 10 },
  { name: '50%', percent: 50 },
  { name: '100%', percent: 100 },
];

export interface PhaseDraft {
  name: string;
  kind: 'count' | 'percent';
  value: number;
}

/**
 * What the request schema cannot say about phases, as locale keys: each reaches at least as many boxes as
 * the one before (phases are cumulative) and the last reaches every target.
 */
export function phaseOrderProblems(phases: readonly PhaseDraft[]): string[] {
  const problems = new Set<string>();
  let lastPercent = 0;
  let lastCount = 0;
  for (const phase of phases) {
    if (phase.kind === 'percent') {
      if (phase.value < lastPercent) problems.add('rolloutWizard.problems.notCumulative');
      lastPercent = phase.value;
    } else {
      if (phase.value < lastCount) problems.add('rolloutWizard.problems.notCumulative');
      lastCount = phase.value;
    }
  }
  const last = phases[phases.length - 1];
  if (last && !(last.kind === 'percent' && last.value === 100))
    problems.add('rolloutWizard.problems.lastNotAll');
  return [...problems];
}

export function toPhases(drafts: readonly PhaseDraft[]): Phases {
  return drafts.map((d) =>
    d.kind === 'percent'
      ? { name: d.name.trim(), percent: d.value }
      : { name: d.name.trim(), count: d.value },
  );
}
