import { backoffDelay, type BackoffPolicy } from '@agentbox/retry';
import type { RunEnding } from './run-recorder.js';

const DAY_MS = 86_400_000;

export interface AgentHoldsOptions {
  /** Restart backoff after a crash: min(2^(crashes-1) * baseMs, capMs), no jitter. */
  restartBackoff: Pick<BackoffPolicy, 'baseMs' | 'capMs'>;
  /** Consecutive crashes after which the agent is reported crash-looping. */
  crashLoopAfter: number;
  clock: () => number;
  /** Called when a day-budget block ends by itself (the agent's reported state changes). */
  onBudgetReopened: () => void;
}

/**
 * What holds one agent's next run back: the restart backoff after its runs crashed (and whether it is
 * crash-looping), and the block once its day budget is used up.
 */
export class AgentHolds {
  private consecutiveCrashes = 0;
  private lastCrash: string | undefined;
  /** No run starts before this time (restart backoff after a crash). */
  private restartAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The day budget is used up until this time. */
  private budgetResetsAt: number | undefined;
  private budgetTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AgentHoldsOptions) {}

  /** Counts a crash (and backs off), or clears the crash count after a success. */
  runEnded(ending: RunEnding): void {
    if (ending.crash) {
      this.consecutiveCrashes++;
      this.lastCrash = ending.error;
      const { baseMs, capMs } = this.options.restartBackoff;
      this.restartAt = this.options.clock() + backoffDelay(this.consecutiveCrashes - 1, { baseMs, capMs });
    } else if (ending.status === 'succeeded') {
      this.consecutiveCrashes = 0;
      this.lastCrash = undefined;
    }
  }

  /** True while the restart backoff after a crash lasts. */
  get restarting(): boolean {
    return this.restartAt > this.options.clock();
  }

  /** Ms until a run may start again after a crash (0 or less: now). */
  restartWaitMs(): number {
    return this.restartAt - this.options.clock();
  }

  /** Calls `then` once the restart backoff is over (one such call pending at a time). */
  afterRestartWait(wait: number, then: () => void): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(then, wait);
  }

  /** Why the agent is reported crash-looping, when it is. */
  crashLoop(): string | undefined {
    if (this.consecutiveCrashes < this.options.crashLoopAfter) return undefined;
    return `the last ${this.consecutiveCrashes} runs crashed; the last: ${this.lastCrash ?? 'unknown'}`;
  }

  /** Why no run may start, while the day budget is used up. */
  budgetBlock(tokensPerDay: number): string | undefined {
    if (this.budgetResetsAt === undefined || this.budgetResetsAt <= this.options.clock()) return undefined;
    return `the agent's daily token budget (${tokensPerDay} tokens) is used up until ${new Date(this.budgetResetsAt).toISOString()}`;
  }

  /** The day budget is used up until `resetsAt` (default: the next UTC midnight). */
  blockForDay(resetsAt: number | undefined): void {
    const now = this.options.clock();
    const until = resetsAt ?? now - (now % DAY_MS) + DAY_MS;
    this.budgetResetsAt = until;
    clearTimeout(this.budgetTimer);
    // Timers hold at most ~24.8 days; a day window is far shorter.
    this.budgetTimer = setTimeout(() => this.options.onBudgetReopened(), Math.max(0, until - now) + 10);
    this.budgetTimer.unref();
  }

  /** A new budget is a new decision by the owner: the old day block no longer holds. */
  liftBudgetBlock(): void {
    this.budgetResetsAt = undefined;
    clearTimeout(this.budgetTimer);
  }

  dispose(): void {
    clearTimeout(this.restartTimer);
    clearTimeout(this.budgetTimer);
  }
}
