import { sleepOrThrow } from '@agentbox/retry';
import { setPendingSlot } from '@agentbox/launcher/boot-state';
import type { OtaFlowState } from '../ota-state.js';
import { inWindow, type FlowContext } from './flow-context.js';

/**
 * Step `switch`: inside the maintenance window and once no agent run is in progress (or the rollout
 * forces it after `maxWaitSec`), marks the new slot pending in boot.json, reports `rebooting` and has
 * the box restart, so the launcher starts the new version on probation.
 */
export async function switchStep(ctx: FlowContext, state: OtaFlowState, signal: AbortSignal): Promise<void> {
  const { policy } = state.offer;
  const poll = ctx.pollMs ?? 5_000;
  let waitingSince: number | undefined;
  for (;;) {
    // Checked again: the window may have closed while the bundle was unpacked or runs were awaited.
    if (!inWindow(policy.maintenanceWindow, ctx.minuteOfDay())) {
      waitingSince = undefined;
      await sleepOrThrow(poll, signal);
      continue;
    }
    const runs = ctx.options.runsInProgress();
    if (runs === 0) break;
    waitingSince ??= ctx.now();
    if (policy.force && ctx.now() - waitingSince >= policy.maxWaitSec * 1_000) {
      ctx.logger.warn('restarting for the update with agent runs in progress (forced)', { runs });
      break;
    }
    await sleepOrThrow(poll, signal);
  }
  signal.throwIfAborted();
  const slot = state.slot!;
  setPendingSlot(ctx.options.bootStatePath!, {
    slot,
    version: state.version,
    rolloutId: state.rolloutId,
    maxAttempts: 3,
    deadlineSec: policy.healthDeadlineSec,
    now: ctx.now(),
  });
  await ctx.report(state, 'rebooting', undefined, `restarting into slot ${slot}`);
  ctx.logger.log('restarting into the new version', { version: state.version, slot });
  ctx.options.restart();
}
