import type { DesiredProvider, SealedSecret } from '@agentbox/schemas';
import { backoffDelay } from '@agentbox/retry';
import type { InstalledAgent } from '../agents.contracts.js';
import type { BoxProviderDirectory } from '../providers/provider-directory.js';
import {
  computeSteps,
  describeStep,
  stepKey,
  type ReconcileCurrent,
  type ReconcileStep,
  type ReconcileTarget,
} from './reconcile-steps.js';

/** What the reconciler drives: the supervisor's side of installing and removing agents. */
export interface AgentRuntimePort {
  upsert(agent: InstalledAgent): void | Promise<void>;
  remove(agentId: string): void | Promise<void>;
}

/** Where installed agents persist (InstalledAgentsStore over agents.db). */
export interface InstalledAgentsPort {
  list(): { agent: InstalledAgent }[];
  put(agent: InstalledAgent): void;
  remove(agentId: string): unknown;
}

export interface ReconcilerLogger {
  log(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface AgentReconcilerOptions {
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A cycle that has not converged for this long counts as stuck (the health check fails). */
  stuckAfterMs?: number;
  clock?: () => number;
}

export interface StepFailure {
  step: ReconcileStep;
  description: string;
  message: string;
  /** Consecutive failures of this step. */
  failures: number;
  at: number;
}

/** `min(2^n * base, cap)`, n counting the failures in a row from 0 (no jitter). */
export function reconcileBackoffMs(failuresInRow: number, baseMs = 500, capMs = 60_000): number {
  return backoffDelay(failuresInRow - 1, { baseMs, capMs });
}

/**
 * Balena-style reconciliation of the box's agents and providers: compute the steps from the current
 * state to the target, apply one, recompute, until none remain. A failed step is retried after a
 * capped exponential backoff; the step that failed least often goes first, so one agent that cannot
 * be installed does not hold up the others. A new target wakes the loop and resets the backoff.
 */
export class AgentReconciler {
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly stuckAfterMs: number;
  private readonly clock: () => number;
  private readonly installed = new Map<string, InstalledAgent>();
  private readonly providers = new Map<string, DesiredProvider>();
  private readonly stepFailures = new Map<string, StepFailure>();
  private readonly listeners = new Set<() => void>();
  private readonly idleWaiters = new Set<() => void>();
  private target: ReconcileTarget = {};
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private failuresInRow = 0;
  /** When the current unfinished cycle first failed (undefined while it makes progress). */
  private failingSince: number | undefined;
  /** When the step being applied now started. */
  private applyingSince: number | undefined;
  private pendingSteps: ReconcileStep[] = [];
  applied = 0;

  constructor(
    private readonly runtime: AgentRuntimePort,
    private readonly store: InstalledAgentsPort,
    private readonly directory: BoxProviderDirectory,
    private readonly openSecret: (sealed: SealedSecret) => string,
    private readonly logger: ReconcilerLogger,
    options: AgentReconcilerOptions = {},
  ) {
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffCapMs = options.backoffCapMs ?? 60_000;
    this.stuckAfterMs = options.stuckAfterMs ?? 5 * 60_000;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Hands the installed agents to the runtime, before any desired state or connection: a box that
   * restarts runs its agents offline. Then starts the apply loop.
   */
  async start(): Promise<void> {
    for (const { agent } of this.store.list()) {
      try {
        await this.runtime.upsert(agent);
        this.installed.set(agent.id, agent);
      } catch (error) {
        // Left out of the current state, so the loop installs it again from the target.
        this.logger.warn('an installed agent could not be started', {
          agentId: agent.id,
          err: (error as Error).message,
        });
      }
    }
    if (this.installed.size > 0)
      this.logger.log('installed agents started', { agents: [...this.installed.keys()] });
    this.loop ??= this.run();
  }

  /** Takes the agents and providers sections of a newly applied desired state. */
  setTarget(target: ReconcileTarget): void {
    this.target = target;
    this.failuresInRow = 0;
    this.pendingSteps = computeSteps(this.target, this.current());
    this.wake?.();
  }

  current(): ReconcileCurrent {
    return { agents: new Map(this.installed), providers: new Map(this.providers) };
  }

  installedAgents(): InstalledAgent[] {
    return [...this.installed.values()];
  }

  /** The steps still to apply, as of the last computation. */
  pending(): readonly ReconcileStep[] {
    return this.pendingSteps;
  }

  /** Steps that failed and have not succeeded since, by step key. */
  failures(): ReadonlyMap<string, StepFailure> {
    return this.stepFailures;
  }

  /** How long the current apply cycle has been failing or hanging; 0 while it makes progress or is done. */
  stuckFor(now = this.clock()): number {
    const since = Math.min(this.failingSince ?? Infinity, this.applyingSince ?? Infinity);
    return Number.isFinite(since) ? Math.max(0, now - since) : 0;
  }

  /** Health check: fails while an apply cycle has been stuck for longer than `stuckAfterMs`. */
  isHealthy(now = this.clock()): boolean {
    return this.stuckFor(now) < this.stuckAfterMs;
  }

  /** Called after every applied or failed step. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once no step remains (immediately when there is none). */
  idle(): Promise<void> {
    if (this.pendingSteps.length === 0 && this.applyingSince === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const steps = computeSteps(this.target, this.current());
      this.pendingSteps = steps;
      if (steps.length === 0) {
        this.failingSince = undefined;
        this.failuresInRow = 0;
        for (const resolve of this.idleWaiters) resolve();
        this.idleWaiters.clear();
        await this.sleep(Infinity);
        continue;
      }
      const step = this.pick(steps);
      const key = stepKey(step);
      this.applyingSince = this.clock();
      try {
        await this.apply(step);
        this.applied += 1;
        this.stepFailures.delete(key);
        this.failuresInRow = 0;
        this.failingSince = undefined;
        this.logger.log('reconcile step applied', { step: describeStep(step) });
      } catch (error) {
        const now = this.clock();
        this.failuresInRow += 1;
        this.failingSince ??= now;
        const failure: StepFailure = {
          step,
          description: describeStep(step),
          message: (error as Error).message,
          failures: (this.stepFailures.get(key)?.failures ?? 0) + 1,
          at: now,
        };
        this.stepFailures.set(key, failure);
        const delay = reconcileBackoffMs(this.failuresInRow, this.backoffBaseMs, this.backoffCapMs);
        this.logger.warn('reconcile step failed', {
          step: failure.description,
          err: failure.message,
          failures: failure.failures,
          retryInMs: delay,
        });
        this.applyingSince = undefined;
        this.emit();
        await this.sleep(delay);
        continue;
      } finally {
        this.applyingSince = undefined;
      }
      this.emit();
    }
  }

  private pick(steps: ReconcileStep[]): ReconcileStep {
    let best = steps[0]!;
    let fewest = this.stepFailures.get(stepKey(best))?.failures ?? 0;
    for (const step of steps) {
      const failures = this.stepFailures.get(stepKey(step))?.failures ?? 0;
      if (failures < fewest) {
        best = step;
        fewest = failures;
      }
    }
    return best;
  }

  private async apply(step: ReconcileStep): Promise<void> {
    switch (step.action) {
      case 'set-provider': {
        // A key that cannot be opened is a state to report, not a failure to retry: only a new
        // document (sealed again) can mend it.
        const problem = this.directory.set(step.provider, this.openSecret);
        if (problem) this.logger.warn('provider key unusable', { providerId: step.provider.id, problem });
        this.providers.set(step.provider.id, step.provider);
        return;
      }
      case 'remove-provider':
        this.directory.remove(step.providerId);
        this.providers.delete(step.providerId);
        return;
      case 'install-agent':
      case 'update-agent':
        // Runtime first, then the store: if the store write fails the step is retried as a whole,
        // and upsert is idempotent.
        await this.runtime.upsert(step.agent);
        this.store.put(step.agent);
        this.installed.set(step.agent.id, step.agent);
        return;
      case 'remove-agent':
        await this.runtime.remove(step.agentId);
        this.store.remove(step.agentId);
        this.installed.delete(step.agentId);
        return;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      if (Number.isFinite(ms)) timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private emit(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger.warn('reconcile listener failed', { err: (error as Error).message });
      }
    }
  }
}
