import type { UpdateOffer } from '@agentbox/schemas';
import { markLastReported, readBootState } from '@agentbox/launcher/boot-state';
import type { UpdateReason } from './ota-trust.js';
import type { OtaFlowState, OtaStateStore } from './ota-state.js';
import { commitStep, type HealthCheck, type TrialOutcome } from './steps/commit-step.js';
import { DownloadStep } from './steps/download-step.js';
import { FlowContext, Stop, bootStateAt, offerKey, type UpdateFlowOptions } from './steps/flow-context.js';
import { installStep } from './steps/install-step.js';
import { switchStep } from './steps/switch-step.js';
import { verifyStep } from './steps/verify-step.js';

export type { HealthCheck, TrialOutcome } from './steps/commit-step.js';
export {
  PROGRESS_REPORT_MS,
  UNPACK_FACTOR,
  inWindow,
  offerKey,
  type FlowLogger,
  type UpdateFlowOptions,
} from './steps/flow-context.js';

interface Running {
  key: string;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * The box's side of an over-the-air update, one step per file in steps/: verify the signed metadata,
 * download with resume and check the bundle, install it into the inactive slot, switch (mark it
 * pending in boot.json and restart into it); on the next start the new version commits itself once
 * healthy (or, after the launcher rolled back, the old one says why). This class sequences the steps:
 * each persists where it got to before the next one starts, and each is safe to run again, so a
 * kill -9 anywhere resumes (or redoes one step) on the next start.
 */
export class UpdateFlow {
  private readonly ctx: FlowContext;
  private readonly downloadStep: DownloadStep;
  private running: Running | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: UpdateFlowOptions) {
    this.ctx = new FlowContext(options);
    this.downloadStep = new DownloadStep(this.ctx);
  }

  get store(): OtaStateStore {
    return this.ctx.store;
  }

  get rootPath(): string {
    return this.ctx.rootPath;
  }

  get downloadDir(): string {
    return this.ctx.downloadDir;
  }

  /** Settles when the flow in progress (if any) stops: final, waiting for a restart, or aborted. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  /**
   * At start: what the persisted flow tells this process to do. 'trial' means this process is the new
   * version on probation (run trial()); 'resume' means an interrupted flow goes on (call offer()).
   */
  async recover(bootPending: boolean): Promise<'none' | 'trial' | 'resume'> {
    const { ctx } = this;
    const state = await ctx.store.load();
    if (!state || state.step === 'final') return 'none';
    const { bootStatePath, currentVersion } = ctx.options;
    if (state.step !== 'switch' && state.step !== 'trial') return 'resume';
    if (!bootStatePath) return 'resume';
    const boot = bootStateAt(bootStatePath);
    if (state.version === currentVersion) {
      if (bootPending && boot.pending?.version === state.version) {
        if (state.step !== 'trial') await ctx.save(state, { step: 'trial' });
        return 'trial';
      }
      if (boot.last?.result === 'committed' && boot.last.version === state.version) {
        // Committed, then killed before the report went out.
        await ctx.finish(state, 'healthy', undefined, `running ${state.version} from slot ${boot.active}`);
        markLastReported(bootStatePath, { now: ctx.now() });
        return 'none';
      }
      return 'trial';
    }
    if (
      boot.last?.result === 'rolled-back' &&
      boot.last.version === state.version &&
      boot.last.reportedAt === undefined &&
      boot.last.at >= state.updatedAt
    ) {
      await ctx.finish(
        state,
        'rolled-back',
        boot.last.reason ?? 'health-check-failed',
        boot.last.detail ?? `the launcher went back to ${currentVersion}`,
      );
      markLastReported(bootStatePath, { now: ctx.now() });
      return 'none';
    }
    return 'resume';
  }

  /** The desired state's `spec.update` (undefined: none offered), taken one at a time in order. */
  offer(offer: UpdateOffer | undefined): Promise<void> {
    const next = this.queue.then(() => this.offerNow(offer));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async offerNow(offer: UpdateOffer | undefined): Promise<void> {
    const { ctx } = this;
    const state = await ctx.store.load();
    if (!offer) {
      if (state && state.step !== 'final' && state.step !== 'trial') {
        await this.stopRunning();
        // A switch already written to boot.json is past the point of canceling: the trial decides.
        if (state.step !== 'switch' || !this.pendingWritten(state)) {
          await ctx.finish(state, 'canceled', 'canceled', 'the offer was withdrawn');
        }
      }
      return;
    }
    const key = offerKey({ rolloutId: offer.rolloutId, version: offer.release.signed.version });
    if (this.running?.key === key) return;
    if (state && offerKey(state) === key && state.step === 'final') return;
    await this.stopRunning();
    let current = state && offerKey(state) === key ? state : undefined;
    if (state && !current && state.step !== 'final') {
      if (state.step === 'trial') return; // never while a new version is on probation
      await ctx.finish(state, 'canceled', 'canceled', `superseded by ${key}`);
    }
    if (!current) {
      current = {
        v: 1,
        rolloutId: offer.rolloutId,
        version: offer.release.signed.version,
        offer,
        step: 'verify',
        fromVersion: ctx.options.currentVersion,
        updatedAt: ctx.now(),
      };
      await ctx.store.save(current);
    }
    const abort = new AbortController();
    const running: Running = { key, abort, done: Promise.resolve() };
    running.done = this.run(current, abort.signal).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
  }

  /** Stops the flow in progress (the box shutting down); its persisted step resumes on the next start. */
  async stop(): Promise<void> {
    await this.stopRunning();
  }

  /** This process is the pending version: the commit step (steps/commit-step.ts). */
  trial(
    healthy: () => Promise<HealthCheck>,
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<TrialOutcome> {
    return commitStep(this.ctx, healthy, deadlineMs, signal);
  }

  /** Runs the steps from the persisted one on; a step that stops the flow (Stop) ends it with its status. */
  private async run(initial: OtaFlowState, signal: AbortSignal): Promise<void> {
    const { ctx } = this;
    let state = initial;
    try {
      while (!signal.aborted) {
        switch (state.step) {
          case 'verify':
            state = await verifyStep(ctx, state, signal);
            break;
          case 'download':
            state = await this.downloadStep.run(state, signal);
            break;
          case 'install':
            state = await installStep(ctx, state, signal);
            break;
          case 'switch':
            await switchStep(ctx, state, signal);
            return;
          case 'trial':
          case 'final':
            return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Stop) {
        await ctx.finish(state, error.status, error.reason, error.detail);
        return;
      }
      ctx.logger.warn('update step failed', { step: state.step, err: (error as Error).message });
      const reason: UpdateReason = state.step === 'install' ? 'unpack-failed' : 'download-failed';
      await ctx.finish(state, 'failed', reason, `${state.step}: ${(error as Error).message}`);
    }
  }

  private pendingWritten(state: OtaFlowState): boolean {
    const { bootStatePath } = this.ctx.options;
    if (!bootStatePath) return false;
    try {
      return readBootState(bootStatePath)?.pending?.version === state.version;
    } catch {
      return false;
    }
  }

  private async stopRunning(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.abort.abort(new Error('update flow stopped'));
    await running.done;
  }
}
