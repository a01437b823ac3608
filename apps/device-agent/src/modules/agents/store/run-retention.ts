import type { AgentsLogger } from '../agents.contracts.js';
import type { RetentionPolicy, RunStore } from './run-store.js';
import type { ConversationStore } from './conversation-store.js';
import type { UsageStore } from './usage-store.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface RunRetentionDeps {
  runs: Pick<RunStore, 'prune'>;
  usage: Pick<UsageStore, 'prune'>;
  /** Conversations idle for the day limit go too. */
  conversations?: Pick<ConversationStore, 'prune'>;
  policy: RetentionPolicy;
  logger: AgentsLogger;
  everyMs?: number;
  clock?: () => number;
}

/**
 * Keeps agents.db bounded: at start and then hourly, finished runs older than the day limit go, then
 * the oldest until the history fits the size limit; usage records older than the day limit go too,
 * and conversations without a new turn for that many days.
 */
export class RunRetention {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RunRetentionDeps) {}

  start(): void {
    this.apply();
    this.timer = setInterval(() => this.apply(), this.deps.everyMs ?? HOUR_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  apply(): void {
    const { policy, logger } = this.deps;
    try {
      const runs = this.deps.runs.prune(policy);
      const usage = this.deps.usage.prune((this.deps.clock ?? Date.now)() - policy.maxAgeDays * DAY_MS);
      const conversations = this.deps.conversations?.prune(policy.maxAgeDays) ?? 0;
      if (runs.deletedRuns > 0 || usage > 0 || conversations > 0)
        logger.log('run history pruned', { ...runs, usageRecords: usage, conversations });
    } catch (error) {
      logger.warn('pruning the run history failed', { err: (error as Error).message });
    }
  }
}
