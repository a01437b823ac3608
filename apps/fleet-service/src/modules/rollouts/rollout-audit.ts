import type { EntityManager } from 'typeorm';
import { SYSTEM_ACTOR, type AuditService } from '../audit/audit.service.js';
import type { EngineAction, EngineEvent } from './rollout-engine.js';
import { failureStats, type RolloutState } from './rollout-state.js';

export type OperatorAction = 'start' | 'pause' | 'resume' | 'cancel' | 'retry-failed';

/** Audit verbs of operator actions. */
const OPERATOR_VERBS: Record<OperatorAction, string> = {
  start: 'rollout.started',
  pause: 'rollout.paused',
  resume: 'rollout.resumed',
  cancel: 'rollout.canceled',
  'retry-failed': 'rollout.retried-failed',
};

/**
 * Records one engine step in the audit log, in its transaction: operator actions under the operator,
 * what the engine decided by itself (phase advanced, paused, aborted, completed) under `system`.
 */
export async function auditStep(
  audit: AuditService,
  manager: EntityManager,
  step: {
    rolloutId: string;
    operator: EngineEvent[];
    actions: EngineAction[];
    actor: string;
    state: RolloutState;
  },
): Promise<void> {
  const { rolloutId, operator, actions, actor, state } = step;
  const record = (who: string, action: string, detail: Record<string, unknown>) =>
    audit.record({ actor: who, action, targetType: 'rollout', targetId: rolloutId, detail }, manager);
  for (const event of operator) {
    if (event.type === 'report') continue;
    await record(actor, OPERATOR_VERBS[event.type], { phase: state.phase });
  }
  const requested = new Set(operator.map((event) => event.type));
  for (const action of actions) {
    if (action.type === 'phase') {
      await record(SYSTEM_ACTOR, 'rollout.phase-advanced', {
        phase: action.phase,
        name: state.phases[action.phase]?.name,
      });
    } else if (action.type === 'status') {
      const direct =
        (action.status === 'running' &&
          (requested.has('start') || requested.has('resume') || requested.has('retry-failed'))) ||
        (action.status === 'paused' && action.pauseReason === 'operator' && requested.has('pause')) ||
        (action.status === 'canceled' && requested.has('cancel'));
      if (direct) continue;
      const { finished, failed } = failureStats(state);
      await record(SYSTEM_ACTOR, `rollout.${action.status}`, {
        pauseReason: action.pauseReason,
        phase: state.phase,
        finished,
        failed,
      });
    }
  }
}
