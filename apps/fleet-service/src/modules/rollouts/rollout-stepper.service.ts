import { Injectable, Logger } from '@nestjs/common';
import type { UpdateStatus } from '@agentbox/schemas';
import { AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { LiveEventsService } from '../live/live-events.service.js';
import { auditStep } from './rollout-audit.js';
import { EngineError, step, type EngineEvent, type StepResult } from './rollout-engine.js';
import { RolloutOffers } from './rollout-offers.service.js';
import { engineConfigOf, RolloutStore, stateOf } from './rollout.store.js';
import { RolloutException } from './rollouts.exception.js';

/**
 * Steps rollouts through the engine: loads a rollout (locked), applies operator events and queued
 * reports, stores the new state and its audit entries in one transaction, then carries out the offers
 * and withdrawals the engine asked for.
 */
@Injectable()
export class RolloutStepper {
  private readonly logger = new Logger(RolloutStepper.name);

  constructor(
    private readonly store: RolloutStore,
    private readonly offers: RolloutOffers,
    private readonly audit: AuditService,
    private readonly live: LiveEventsService,
  ) {}

  /**
   * One engine pass over every rollout with something to do: queued reports, boxes in flight (timeouts),
   * running or paused rollouts. Called by the leading ticker only.
   */
  async tick(now = Date.now()): Promise<void> {
    for (const id of await this.store.idsToStep()) {
      try {
        await this.step(id, [], SYSTEM_ACTOR, now);
      } catch (error) {
        this.logger.error(`Stepping rollout ${id} failed: ${(error as Error).message}`);
      }
    }
  }

  /** Applies operator events (none for a tick) and queued reports; EngineError becomes a 409. */
  async step(id: string, operator: EngineEvent[], actor: string, now: number): Promise<void> {
    const outcome = await this.store.mutate(id, async ({ manager, row, boxes, reports }) => {
      if (!row) {
        if (reports.length > 0) await this.store.markProcessed(manager, reports);
        return null;
      }
      const events: EngineEvent[] = [
        ...reports.map((report): EngineEvent => ({
          type: 'report',
          deviceId: report.deviceId,
          attempt: report.attempt,
          status: report.status as UpdateStatus,
          ...(report.reason === null ? {} : { reason: report.reason }),
          ...(report.detail === null ? {} : { detail: report.detail }),
          ...(report.progress === null ? {} : { progress: report.progress }),
        })),
        ...operator,
      ];
      let result: StepResult;
      try {
        result = step(engineConfigOf(row.settings), stateOf(row, boxes), events, now);
      } catch (error) {
        if (error instanceof EngineError) {
          throw new RolloutException('ROLLOUT_INVALID_TRANSITION', error.message);
        }
        throw error;
      }
      const { state, actions } = result;
      await this.store.save(manager, row, boxes, state, now);
      if (reports.length > 0) await this.store.markProcessed(manager, reports);
      await auditStep(this.audit, manager, { rolloutId: id, operator, actions, actor, state });
      return { row, actions, changed: actions.length > 0 || reports.length > 0 };
    });
    if (!outcome) return;
    await this.offers.carryOut(outcome.row, outcome.actions);
    if (outcome.changed) this.live.publish({ type: 'rollout', rolloutId: id });
  }
}
