import type { PauseReason, RolloutStatus, UpdateStatus } from '@agentbox/schemas';
import { phaseStart } from './rollout-phases.js';
import {
  failureStats,
  isFailure,
  isFinal,
  isInFlight,
  isTerminal,
  type BoxState,
  type BoxStatus,
  type EngineConfig,
  type RolloutState,
} from './rollout-state.js';

/**
 * The rollout engine as a pure state machine: given a rollout's config, its state, the time and what
 * happened since the last step (box reports, operator actions), it returns the next state and the
 * actions the service must carry out (offer the update to a box, withdraw it). No I/O, no clock: the
 * ticker and the tests drive it the same way.
 */

/** A box past these has started replacing its slot: withdrawing the offer then would not stop it. */
const WITHDRAWABLE: readonly BoxStatus[] = ['scheduled', 'downloading', 'downloaded'];

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

/** Order of the steps within one attempt: a late report of an earlier step never overrides a later one. */
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
