import {
  FINAL_UPDATE_STATUSES,
  type PauseReason,
  type RolloutStatus,
  type UpdateStatus,
} from '@agentbox/schemas';

/**
 * The rollout engine as a pure state machine: given a rollout's config, its state, the time and what
 * happened since the last step (box reports, operator actions), it returns the next state and the
 * actions the service must carry out (offer the update to a box, withdraw it). No I/O, no clock: the
 * ticker and the tests drive it the same way.
 */

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

/** A box past these has started replacing its slot: withdrawing the offer then would not stop it. */
const WITHDRAWABLE: readonly BoxStatus[] = ['scheduled', 'downloading', 'downloaded'];

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

export type EngineEvent =
  | {
      type: 'report';
      deviceId: string;
      attempt: number;
      status: UpdateStatus;
      reason?: string;
      detail?: string;
      progress?: { bytes: number; total: number };
    }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'cancel' }
  | { type: 'retry-failed' };

export type EngineAction =
  | { type: 'offer'; deviceId: string; attempt: number }
  | { type: 'withdraw'; deviceId: string }
  | { type: 'box'; deviceId: string; status: BoxStatus; attempt: number }
  | { type: 'phase'; phase: number }
  | { type: 'status'; status: RolloutStatus; pauseReason: PauseReason | null };

export interface StepResult {
  state: RolloutState;
  actions: EngineAction[];
}

export class EngineError extends Error {
  constructor(
    readonly code: 'INVALID_TRANSITION',
    message: string,
  ) {
    super(message);
  }
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

/** Order of the steps within one attempt: a late report of an earlier step never overrides a later one. */
/** Why an in-flight box has run out of time, or null while it has not. */
function timeoutOf(config: EngineConfig, box: BoxState, now: number): string | null {
  if (!isInFlight(box.status) || box.offeredAt === null) return null;
  const timeoutMs = config.perBoxTimeoutSec * 1000;
  if (config.waitsForWindow && rank(box.status) >= rank('downloaded')) {
    // Parked until the box's maintenance window opens; then installing, rebooting and the health
    // check each have the timeout (updatedAt is when the box reached its current status).
    if (box.status === 'downloaded') return null;
    return now - box.updatedAt >= timeoutMs
      ? `no progress past ${box.status} within ${config.perBoxTimeoutSec} s`
      : null;
  }
  return now - box.offeredAt >= timeoutMs ? `no final status within ${config.perBoxTimeoutSec} s` : null;
}

function rank(status: BoxStatus): number {
  switch (status) {
    case 'pending':
      return -1;
    case 'scheduled':
      return 0;
    case 'downloading':
      return 1;
    case 'downloaded':
      return 2;
    case 'installing':
      return 3;
    case 'rebooting':
      return 4;
    case 'healthy':
    case 'rolled-back':
    case 'failed':
    case 'rejected':
    case 'canceled':
      return 5;
  }
}

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

/**
 * Applies `events` in order, then lets time pass (timeouts) and evaluates thresholds and phases.
 * Operator actions that make no sense in the current status throw EngineError (the API turns that
 * into 409); reports never throw.
 */
export function step(
  config: EngineConfig,
  previous: RolloutState,
  events: readonly EngineEvent[],
  now: number,
): StepResult {
  const state: RolloutState = {
    ...previous,
    phases: previous.phases.map((phase) => ({ ...phase })),
    boxes: previous.boxes.map((box) => ({ ...box })),
  };
  const actions: EngineAction[] = [];
  const setStatus = (status: RolloutStatus, pauseReason: PauseReason | null) => {
    if (state.status === status && state.pauseReason === pauseReason) return;
    state.status = status;
    state.pauseReason = pauseReason;
    if (isTerminal(status)) state.endedAt = now;
    actions.push({ type: 'status', status, pauseReason });
  };
  const setBox = (box: BoxState, status: BoxStatus) => {
    box.status = status;
    box.updatedAt = now;
    actions.push({ type: 'box', deviceId: box.deviceId, status, attempt: box.attempt });
  };
  const advance = () => {
    state.phase += 1;
    actions.push({ type: 'phase', phase: state.phase });
  };
  /** Ends every offer the box could still stop; boxes already switching slots finish their attempt. */
  const stopOffers = () => {
    for (const box of state.boxes) {
      if (WITHDRAWABLE.includes(box.status)) {
        box.reason = 'canceled';
        box.detail = null;
        setBox(box, 'canceled');
        actions.push({ type: 'withdraw', deviceId: box.deviceId });
      }
    }
  };
  const invalid = (what: string) => {
    throw new EngineError('INVALID_TRANSITION', `Cannot ${what} a rollout that is ${state.status}`);
  };

  for (const event of events) {
    switch (event.type) {
      case 'report': {
        const box = state.boxes.find((candidate) => candidate.deviceId === event.deviceId);
        // Reports of another attempt (a retry already went out) or of a box never offered are history only.
        if (!box || box.attempt !== event.attempt || box.status === 'pending') break;
        if (isFinal(box.status)) break;
        const forward = rank(event.status) > rank(box.status);
        const moreBytes =
          event.status === 'downloading' &&
          box.status === 'downloading' &&
          (event.progress?.bytes ?? 0) > (box.progress?.bytes ?? 0);
        if (!forward && !moreBytes) break;
        box.reason = event.reason ?? null;
        box.detail = event.detail ?? null;
        if (event.progress) box.progress = { ...event.progress };
        if (forward) setBox(box, event.status);
        else box.updatedAt = now;
        if (isFinal(event.status)) actions.push({ type: 'withdraw', deviceId: box.deviceId });
        break;
      }
      case 'start':
        if (state.status !== 'draft') invalid('start');
        state.startedAt = now;
        setStatus('running', null);
        break;
      case 'pause':
        if (state.status !== 'running') invalid('pause');
        setStatus('paused', 'operator');
        break;
      case 'resume': {
        if (state.status !== 'paused') invalid('resume');
        // A phase that ended and waited for a person: resuming is the approval to move on.
        const approve = state.pauseReason !== 'operator';
        setStatus('running', null);
        if (approve && state.phase < state.phases.length - 1) advance();
        break;
      }
      case 'cancel':
        if (isTerminal(state.status)) invalid('cancel');
        stopOffers();
        setStatus('canceled', null);
        break;
      case 'retry-failed': {
        if (state.status !== 'running' && state.status !== 'paused' && state.status !== 'completed')
          invalid('retry failed boxes of');
        for (const box of state.boxes) {
          if (!isFailure(box.status)) continue;
          box.attempt += 1;
          box.reason = null;
          box.detail = null;
          box.progress = null;
          box.offeredAt = null;
          setBox(box, 'pending');
        }
        // Retrying is how a person answers a phase that ended below its threshold: the phase goes on.
        if (state.status === 'completed' || (state.status === 'paused' && state.pauseReason !== 'operator')) {
          state.endedAt = null;
          setStatus('running', null);
        }
        break;
      }
    }
  }

  // Time passes for boxes in flight whatever the rollout's status: a box that never answers fails.
  for (const box of state.boxes) {
    const timeout = timeoutOf(config, box, now);
    if (timeout !== null) {
      box.reason = 'timeout';
      box.detail = timeout;
      setBox(box, 'failed');
      actions.push({ type: 'withdraw', deviceId: box.deviceId });
    }
  }

  if (state.status === 'running' || state.status === 'paused') {
    const { finished, failed } = failureStats(state);
    if (
      finished >= config.abort.minFinished &&
      finished > 0 &&
      failed * 100 >= config.abort.failurePct * finished
    ) {
      stopOffers();
      setStatus('aborted', null);
    }
  }

  // Phases move on only while running; several empty or finished phases may pass in one step.
  while (state.status === 'running') {
    const current = state.phases[state.phase];
    if (!current) break;
    for (let index = 0; index < current.end; index += 1) {
      const box = state.boxes[index];
      if (box?.status !== 'pending') continue;
      if (box.attempt === 0) box.attempt = 1;
      box.offeredAt = now;
      box.reason = null;
      box.detail = null;
      box.progress = null;
      setBox(box, 'scheduled');
      actions.push({ type: 'offer', deviceId: box.deviceId, attempt: box.attempt });
    }
    const reached = state.boxes.slice(0, current.end);
    if (!reached.every((box) => isFinal(box.status))) break;
    const last = state.phase >= state.phases.length - 1;
    if (last) {
      setStatus('completed', null);
      break;
    }
    const batch = state.boxes.slice(phaseStart(state, state.phase), current.end);
    const healthy = batch.filter((box) => box.status === 'healthy').length;
    const met = batch.length === 0 || healthy * 100 >= config.successThresholdPct * batch.length;
    // An empty batch (10% of very few boxes) has nothing for a person to look at.
    if (batch.length === 0 || (met && config.autoAdvance)) {
      advance();
      continue;
    }
    setStatus('paused', met ? 'awaiting-approval' : 'below-threshold');
  }

  return { state, actions };
}
