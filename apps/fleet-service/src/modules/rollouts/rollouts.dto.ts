import {
  type DeviceUpdateDto,
  type RolloutBoxDto,
  type RolloutDetailDto,
  type RolloutDto,
  UPDATE_STATUSES,
  type UpdateStatus,
} from '@agentbox/schemas';
import { phaseOf } from './rollout-phases.js';
import type { DeviceUpdateRow, RolloutDeviceRow, RolloutRow } from './rollout.entity.js';
import { stateOf, type StatusCounts } from './rollout.store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toRolloutDto(row: RolloutRow, counts: StatusCounts): RolloutDto {
  return {
    id: row.id,
    releaseId: row.releaseId,
    releaseVersion: row.releaseVersion,
    status: row.status,
    pauseReason: row.pauseReason,
    phase: row.phase,
    settings: row.settings,
    totalBoxes: row.phases[row.phases.length - 1]?.end ?? 0,
    counts,
    createdBy: row.createdBy,
    createdAt: new Date(row.createdAt).toISOString(),
    startedAt: iso(row.startedAt),
    endedAt: iso(row.endedAt),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

/** The rollout with its phases (box counts per status in each) and its boxes in target order. */
export function toRolloutDetailDto(row: RolloutRow, boxes: RolloutDeviceRow[]): RolloutDetailDto {
  const state = stateOf(row, boxes);
  const counts: StatusCounts = {};
  const phaseCounts = row.phases.map((): StatusCounts => ({}));
  const boxDtos = boxes.map((box, index): RolloutBoxDto => {
    const phase = phaseOf(state, index);
    counts[box.status] = (counts[box.status] ?? 0) + 1;
    const bucket = phaseCounts[phase];
    if (bucket) bucket[box.status] = (bucket[box.status] ?? 0) + 1;
    return {
      deviceId: box.deviceId,
      phase,
      status: box.status,
      reason: box.reason,
      detail: box.detail,
      progress: box.progress,
      attempt: box.attempt,
      offeredAt: iso(box.offeredAt),
      updatedAt: new Date(box.updatedAt).toISOString(),
    };
  });
  return {
    ...toRolloutDto(row, counts),
    phases: row.phases.map((phase, index) => ({
      index,
      name: phase.name,
      start: index === 0 ? 0 : (row.phases[index - 1]?.end ?? 0),
      end: phase.end,
      counts: phaseCounts[index] ?? {},
    })),
    boxes: boxDtos,
  };
}

/** A box's update history, newest first. */
export function toDeviceUpdateDtos(rows: DeviceUpdateRow[]): DeviceUpdateDto[] {
  // Reports of one attempt often share a millisecond; the flow's own order breaks those ties.
  const rank = (status: string) => UPDATE_STATUSES.indexOf(status as UpdateStatus);
  const sorted = [...rows].sort(
    (a, b) =>
      b.receivedAt - a.receivedAt ||
      b.reportedAt - a.reportedAt ||
      b.attempt - a.attempt ||
      rank(b.status) - rank(a.status),
  );
  return sorted.map((row) => ({
    id: row.id,
    rolloutId: row.rolloutId,
    attempt: row.attempt,
    version: row.version,
    status: row.status as UpdateStatus,
    reason: row.reason as DeviceUpdateDto['reason'],
    detail: row.detail,
    progress: row.progress,
    runningVersion: row.runningVersion,
    reportedAt: new Date(row.reportedAt).toISOString(),
    receivedAt: new Date(row.receivedAt).toISOString(),
  }));
}
