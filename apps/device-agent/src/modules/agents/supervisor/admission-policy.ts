import type { AgentDefinition } from '@agentbox/schemas';
import { INPUT_MAX } from './run-recorder.js';

export const STOPPING_REASON = 'the device agent is stopping';

/** What the supervisor knows of an agent when a trigger arrives. */
export interface AdmissionState {
  concurrency: AgentDefinition['concurrency'];
  /** Ids of the runs in progress, oldest first. */
  activeRunIds: readonly string[];
  queued: number;
  /** The restart backoff after a crash still lasts. */
  restarting: boolean;
  /** Why the day budget refuses runs, while it does. */
  budgetBlock: string | undefined;
  stopping: boolean;
  inputLength: number | undefined;
  /** A run of the same conversation is in progress or waits: messages of one conversation go in order. */
  conversationBusy?: boolean;
}

export type Admission =
  | { action: 'start' }
  /** The oldest `count` runs give way, then the new run starts at once (ahead of anything queued). */
  | { action: 'interrupt-oldest'; count: number }
  | { action: 'enqueue' }
  /** `keepInput` false: the input is not recorded (it is what was refused). */
  | { action: 'reject'; reason: string; keepInput: boolean };

export const INTERRUPTED_BY_NEWER_RUN =
  'interrupted by a newer run (the agent is set to interrupt when busy)';

/**
 * What a trigger does to an agent: start a run, queue it, refuse it, or make room by interrupting the
 * oldest runs. An agent is busy when all of its `concurrency.maxParallel` runs are in use; `onBusy`
 * then decides (`reject`, `enqueue` into a `queueSize` queue, or `interrupt`). While the restart backoff
 * lasts, or runs already wait, a new run queues behind them. A message of a conversation whose earlier
 * message is still running or waiting queues behind it, whatever `onBusy` says: it needs that answer.
 */
export function admissionOf(state: AdmissionState): Admission {
  if (state.stopping) return { action: 'reject', reason: STOPPING_REASON, keepInput: true };
  if (state.inputLength !== undefined && state.inputLength > INPUT_MAX) {
    return { action: 'reject', reason: `the input is longer than ${INPUT_MAX} characters`, keepInput: false };
  }
  if (state.budgetBlock) return { action: 'reject', reason: state.budgetBlock, keepInput: true };

  const { maxParallel, onBusy, queueSize } = state.concurrency;
  if (state.conversationBusy) return enqueueUnlessFull(state.queued, queueSize);
  const active = state.activeRunIds;
  const busy = active.length >= maxParallel;
  if (busy && onBusy === 'interrupt' && !state.restarting) {
    // More than one gives way only after maxParallel was lowered.
    return { action: 'interrupt-oldest', count: active.length - maxParallel + 1 };
  }
  if (busy && active.length > 0 && onBusy === 'reject') {
    const reason =
      active.length === 1
        ? `the agent is busy with run ${active[0]} (it is set to reject runs when busy)`
        : `the agent is busy with runs ${active.join(', ')} ` +
          `(all ${active.length} of its parallel runs; it is set to reject runs when busy)`;
    return { action: 'reject', reason, keepInput: true };
  }
  if (busy || state.restarting || state.queued > 0) return enqueueUnlessFull(state.queued, queueSize);
  return { action: 'start' };
}

function enqueueUnlessFull(queued: number, queueSize: number): Admission {
  if (queued >= queueSize) {
    return {
      action: 'reject',
      reason: `the agent's queue is full (${queued} run${queued === 1 ? '' : 's'} waiting)`,
      keepInput: true,
    };
  }
  return { action: 'enqueue' };
}
