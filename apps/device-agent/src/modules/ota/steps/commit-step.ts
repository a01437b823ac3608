import { sleepOrThrow } from '@agentbox/retry';
import {
  commitPendingSlot,
  markLastReported,
  rolledBackState,
  writeBootState,
  type BootState,
} from '@agentbox/launcher/boot-state';
import { bootStateAt, type FlowContext } from './flow-context.js';

/** One health check of a version on probation; `definitive` failures end the probation at once. */
export interface HealthCheck {
  ok: boolean;
  detail: string;
  definitive?: boolean;
}

export type TrialOutcome = 'committed' | 'rolled-back' | 'stopped';

/**
 * Step `commit`, run by the new version itself: wait until `healthy()` holds (within the deadline),
 * then commit boot.json and report `healthy`. When the check cannot pass in time, or fails for good,
 * roll back through boot.json right away ('rolled-back': the caller exits so the launcher starts the
 * old slot, which reports it); 'stopped' when `signal` ended the wait (a shutdown decides nothing).
 */
export async function commitStep(
  ctx: FlowContext,
  healthy: () => Promise<HealthCheck>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<TrialOutcome> {
  const state = await ctx.store.load();
  const bootStatePath = ctx.options.bootStatePath;
  if (!state || !bootStatePath) return 'stopped';
  if (state.step !== 'trial') await ctx.save(state, { step: 'trial' });
  const until = ctx.now() + deadlineMs;
  let last: HealthCheck = { ok: false, detail: 'not checked' };
  while (ctx.now() < until && !signal?.aborted) {
    last = await healthy().catch((error: unknown) => ({ ok: false, detail: (error as Error).message }));
    if (last.ok) {
      const boot = commit(ctx, bootStatePath);
      ctx.logger.log('update committed', { version: state.version, slot: boot.active });
      await ctx.checkpoint('after-commit', signal).catch(() => undefined);
      await ctx.finish(state, 'healthy', undefined, `running ${state.version} from slot ${boot.active}`);
      if (boot.last) markLastReported(bootStatePath, { now: ctx.now() });
      return 'committed';
    }
    if (last.definitive) break;
    await sleepOrThrow(ctx.pollMs ?? 500, signal).catch(() => undefined);
  }
  if (signal?.aborted) return 'stopped';
  const detail = last.definitive
    ? `health check failed: ${last.detail}`
    : `not healthy within ${Math.round(deadlineMs / 1_000)}s: ${last.detail}`;
  ctx.logger.warn('the new version did not prove healthy; rolling back', { detail });
  return rollBack(ctx, bootStatePath, detail) ? 'rolled-back' : 'stopped';
}

/** Makes the pending slot (this process's) the active one; a boot.json with nothing pending is kept. */
function commit(ctx: FlowContext, bootStatePath: string): BootState {
  const boot = bootStateAt(bootStatePath);
  if (!boot.pending) return boot;
  const { runningSlot } = ctx.options;
  return commitPendingSlot(bootStatePath, {
    ...(runningSlot ? { slot: runningSlot } : {}),
    now: ctx.now(),
  });
}

/**
 * Clears the pending boot and records why, in one atomic write: the launcher then starts the active
 * (old) slot instead of trying this version again. False when this process is not the pending version.
 */
function rollBack(ctx: FlowContext, bootStatePath: string, detail: string): boolean {
  const boot = bootStateAt(bootStatePath);
  const pending = boot.pending;
  const { runningSlot, currentVersion } = ctx.options;
  if (!pending || pending.version !== currentVersion || (runningSlot && runningSlot !== pending.slot))
    return false;
  writeBootState(
    bootStatePath,
    rolledBackState(boot, { reason: 'health-check-failed', detail: detail.slice(0, 2_000), at: ctx.now() }),
  );
  return true;
}
