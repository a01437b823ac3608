import {
  FINAL_UPDATE_STATUSES,
  type PauseReason,
  type RolloutStatus,
  type UpdateStatus,
} from '@agentbox/schemas';

/** What a rollout is made of, as the engine (rollout-engine.ts) and the store see it. */

/** A box the rollout has not offered the update to yet is `pending`; then hawkBit's statuses. */
export type BoxStatus = 'pending' | UpdateStatus;

export const IN_FLIGHT_STATUSES: readonly UpdateStatus[] = [
  'scheduled',
  'downloading',
  'downloaded',
  'installing',
  'rebooting',
];
export const FAILURE_STATUSES: readonly UpdateStatus[] = ['failed', 'rolled-back', 'rejected'];

export type PhasePlan = Array<{ name: string; count?: number; percent?: number }>;
export interface ExponentialPlan {
  exponential: { start: number; factor: number };
}

export interface EngineConfig {
  phases: PhasePlan | ExponentialPlan;
  /** Share of a phase's boxes that must end healthy for the rollout to move on. */
  successThresholdPct: number;
  /** Move on by itself when the threshold is met; otherwise pause for a person. */
  autoAdvance: boolean;
  abort: { failurePct: number; minFinished: number };
  perBoxTimeoutSec: number;
  /**
   * The rollout has a maintenance window: a box that has downloaded waits for it, which may take hours,
   * so the per-box timeout does not run at `downloaded`, and past it each step must come within the
   * timeout of the one before.
   */
  waitsForWindow?: boolean;
}

export interface BoxState {
  deviceId: string;
  status: BoxStatus;
  reason: string | null;
  detail: string | null;
  progress: { bytes: number; total: number } | null;
  /** 1 for the first offer; retry-failed starts a new attempt. */
  attempt: number;
  offeredAt: number | null;
  updatedAt: number;
}

export interface PhaseBounds {
  name: string;
  /** Boxes [0, end) of the target list are reached once this phase runs (cumulative). */
  end: number;
}

export interface RolloutState {
  status: RolloutStatus;
  pauseReason: PauseReason | null;
  /** Index into `phases` of the phase being rolled out. */
  phase: number;
  phases: PhaseBounds[];
  /** In target order: phase n covers boxes [phases[n-1].end, phases[n].end). */
  boxes: BoxState[];
  startedAt: number | null;
  endedAt: number | null;
}

export function isFinal(status: BoxStatus): status is UpdateStatus {
  return (FINAL_UPDATE_STATUSES as readonly BoxStatus[]).includes(status);
}
export function isInFlight(status: BoxStatus): boolean {
  return (IN_FLIGHT_STATUSES as readonly BoxStatus[]).includes(status);
}
export function isFailure(status: BoxStatus): boolean {
  return (FAILURE_STATUSES as readonly BoxStatus[]).includes(status);
}
export function isTerminal(status: RolloutStatus): boolean {
  return status === 'completed' || status === 'aborted' || status === 'canceled';
}

/** Failures (rejected, rolled back, failed, timed out) among boxes that finished, over the whole rollout. */
export function failureStats(state: RolloutState): { finished: number; failed: number } {
  let finished = 0;
  let failed = 0;
  for (const box of state.boxes) {
    if (box.status === 'healthy') finished += 1;
    else if (isFailure(box.status)) {
      finished += 1;
      failed += 1;
    }
  }
  return { finished, failed };
}
