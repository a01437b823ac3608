import type { EngineConfig, ExponentialPlan, PhaseBounds, PhasePlan, RolloutState } from './rollout-state.js';

/** How a rollout's targets are cut into phases (counts, percentages, exponential), and which phase a box is in. */

/** Cumulative phase ends over `total` targets; the last phase always reaches every target. */
export function planPhases(plan: PhasePlan | ExponentialPlan, total: number): PhaseBounds[] {
  const phases: PhaseBounds[] = [];
  if ('exponential' in plan) {
    const { start, factor } = plan.exponential;
    let size = Math.max(1, Math.floor(start));
    while (true) {
      const end = Math.min(total, size);
      phases.push({ name: `phase-${phases.length + 1}`, end });
      if (end >= total) break;
      size = Math.max(size + 1, Math.ceil(size * Math.max(1, factor)));
    }
  } else {
    let previous = 0;
    for (const phase of plan) {
      const wanted = phase.count ?? Math.ceil(((phase.percent ?? 100) * total) / 100);
      const end = Math.min(total, Math.max(previous, wanted));
      phases.push({ name: phase.name, end });
      previous = end;
    }
    if (phases.length === 0) phases.push({ name: 'all', end: total });
  }
  const last = phases[phases.length - 1];
  if (last) last.end = total;
  return phases;
}

export function initialState(config: EngineConfig, deviceIds: readonly string[], now: number): RolloutState {
  return {
    status: 'draft',
    pauseReason: null,
    phase: 0,
    phases: planPhases(config.phases, deviceIds.length),
    boxes: deviceIds.map((deviceId) => ({
      deviceId,
      status: 'pending',
      reason: null,
      detail: null,
      progress: null,
      attempt: 0,
      offeredAt: null,
      updatedAt: now,
    })),
    startedAt: null,
    endedAt: null,
  };
}

export function phaseStart(state: RolloutState, phase: number): number {
  return phase === 0 ? 0 : (state.phases[phase - 1]?.end ?? 0);
}

/** The phase a box (by its index in the target list) belongs to. */
export function phaseOf(state: RolloutState, index: number): number {
  const found = state.phases.findIndex((phase) => index < phase.end);
  return found === -1 ? state.phases.length - 1 : found;
}
