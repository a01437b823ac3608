import { randomUUID } from 'node:crypto';
import type { ReportedAgent, RunRecord, RunStatus } from '@agentbox/schemas';
import { errorText } from '../../../common/error-text.js';
import type {
  InstalledAgent,
  ModelGatewayPort,
  RunReporter,
  RunTrigger,
  TriggerOutcome,
} from '../agents.contracts.js';
import type { ConversationStore } from '../store/conversation-store.js';
import type { RunStore } from '../store/run-store.js';
import type { UsageStore } from '../store/usage-store.js';
import { ActiveRun, type SupervisorTools } from './active-run.js';
import { admissionOf, INTERRUPTED_BY_NEWER_RUN, STOPPING_REASON } from './admission-policy.js';
import { AgentHolds } from './agent-holds.js';
import { ConversationTurns, conversationBusy, nextStartable } from './conversation-turns.js';
import { RunRecorder, type RunEnding } from './run-recorder.js';
import { defaultWorkerLaunch, workerLaunchFor, type WorkerLaunch } from './worker-launch.js';

export type { SupervisorTools } from './active-run.js';
export { STOPPING_REASON } from './admission-policy.js';
export { RECOVERED_REASON, truncateData } from './run-recorder.js';

export interface AgentSupervisorDeps {
  store: {
    runs: RunStore;
    /** When given, `tokensToday` in the status comes from the usage records of the current UTC day. */
    usage?: Pick<UsageStore, 'totalsByAgent'>;
    /** Conversations: a run of one gets its earlier turns, and its answer is kept for the next. */
    conversations?: Pick<ConversationStore, 'history' | 'append' | 'saveSummary'>;
  };
  gateway: ModelGatewayPort;
  tools: SupervisorTools;
  reporter: RunReporter;
  newId?: () => string;
  clock?: () => number;
  /** The run worker module; `.ts` is forked through tsx. Defaults to the built worker beside this module. */
  workerPath?: string;
  /** Restart backoff after a crash: min(2^(crashes-1) * baseMs, capMs). */
  restartBackoff?: { baseMs: number; capMs: number };
  /** Consecutive crashes after which an agent is reported crash-looping. */
  crashLoopAfter?: number;
  /** How often a run process's resident memory is checked. */
  memoryPollMs?: number;
  logger?: { warn(message: string): void };
}

const DAY_MS = 86_400_000;

interface QueuedRun {
  record: RunRecord;
  input: string;
}

interface AgentSlot {
  agent: InstalledAgent;
  /** The runs in progress, oldest first; at most `concurrency.maxParallel` of them start. */
  active: ActiveRun[];
  queue: QueuedRun[];
  holds: AgentHolds;
  lastRunAt?: number;
  lastRunStatus?: RunStatus;
  /** Tokens of today's runs, for when no usage store is given. */
  tokens: { day: number; total: number };
}

type ChangeListener = (status: Record<string, ReportedAgent>) => void;

/**
 * Runs agents: one child process per run (the run worker), none for an idle agent, and up to
 * `concurrency.maxParallel` runs of one agent at once. What a trigger does is the admission policy's
 * call (admission-policy.ts); each run's process and conversation are an ActiveRun (active-run.ts,
 * run-process.ts); records and events go through the RunRecorder; crash backoff and the day-budget
 * block are each agent's AgentHolds. This class keeps the agents' slots and moves their queues.
 */
export class AgentSupervisor {
  private readonly slots = new Map<string, AgentSlot>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly recorder: RunRecorder;
  private readonly turns: ConversationTurns;
  private readonly clock: () => number;
  private readonly launch: WorkerLaunch;
  private readonly backoff: { baseMs: number; capMs: number };
  private readonly crashLoopAfter: number;
  private readonly memoryPollMs: number;
  private stopping = false;

  constructor(private readonly deps: AgentSupervisorDeps) {
    this.clock = deps.clock ?? Date.now;
    this.recorder = new RunRecorder({
      runs: deps.store.runs,
      reporter: deps.reporter,
      newId: deps.newId ?? randomUUID,
      clock: this.clock,
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
    this.turns = new ConversationTurns(deps.store.conversations, deps.logger);
    this.launch = deps.workerPath ? workerLaunchFor(deps.workerPath) : defaultWorkerLaunch();
    this.backoff = deps.restartBackoff ?? { baseMs: 500, capMs: 60_000 };
    this.crashLoopAfter = deps.crashLoopAfter ?? 3;
    this.memoryPollMs = deps.memoryPollMs ?? 250;
  }

  /**
   * At start-up, before any trigger: runs a previous process left queued or running are marked
   * interrupted and reported again, so nothing stays "running" after a crash or a reboot.
   */
  recoverAtStart(): RunRecord[] {
    return this.recorder.recoverAtStart();
  }

  /** Installs an agent or replaces its definition; a run in progress finishes on the definition it started with. */
  upsert(agent: InstalledAgent): void {
    const slot = this.slots.get(agent.id);
    if (slot) {
      if (JSON.stringify(slot.agent.definition.budget) !== JSON.stringify(agent.definition.budget)) {
        slot.holds.liftBudgetBlock();
      }
      slot.agent = agent;
      // More parallel runs allowed: queued runs may start now.
      this.schedulePump(slot);
    } else {
      this.slots.set(agent.id, {
        agent,
        active: [],
        queue: [],
        holds: new AgentHolds({
          restartBackoff: this.backoff,
          crashLoopAfter: this.crashLoopAfter,
          clock: this.clock,
          onBudgetReopened: () => this.changed(),
        }),
        tokens: { day: utcDayOf(this.clock()), total: 0 },
      });
    }
    this.changed();
  }

  /** Uninstalls an agent: its run in progress and its queued runs are interrupted. */
  async remove(agentId: string): Promise<void> {
    const slot = this.slots.get(agentId);
    if (!slot) return;
    this.slots.delete(agentId);
    slot.holds.dispose();
    const reason = 'the agent was removed from this box';
    this.dropQueue(slot, 'interrupted', reason);
    const runs = [...slot.active];
    for (const run of runs) this.end(slot, run, { status: 'interrupted', error: reason });
    this.changed();
    await Promise.all(runs.flatMap((run) => [run.process.exited, run.modelCallsSettled]));
  }

  trigger(agentId: string, trigger: RunTrigger, input?: string, conversationId?: string): TriggerOutcome {
    try {
      return this.admit(agentId, trigger, input, conversationId);
    } catch (error) {
      // The store failed (disk full, I/O error): the caller learns why instead of catching.
      this.deps.logger?.warn(`a run of ${agentId} could not be admitted: ${errorText(error)}`);
      return { accepted: false, reason: `the run could not be recorded on the box: ${errorText(error)}` };
    }
  }

  private admit(
    agentId: string,
    trigger: RunTrigger,
    input: string | undefined,
    conversationId: string | undefined,
  ): TriggerOutcome {
    const slot = this.slots.get(agentId);
    if (!slot) return { accepted: false, reason: `no agent "${agentId}" is installed on this box` };
    const admission = admissionOf({
      concurrency: slot.agent.definition.concurrency,
      activeRunIds: slot.active.map((run) => run.record.id),
      queued: slot.queue.length,
      restarting: slot.holds.restarting,
      budgetBlock: this.budgetBlock(slot),
      stopping: this.stopping,
      inputLength: input?.length,
      conversationBusy: conversationBusy(conversationId, [...slot.active, ...slot.queue]),
    });
    switch (admission.action) {
      case 'reject':
        this.recorder.createRejected(
          slot.agent,
          trigger,
          admission.keepInput ? input : undefined,
          admission.reason,
          conversationId,
        );
        return { accepted: false, reason: admission.reason };
      case 'interrupt-oldest':
        // The newcomer takes the freed slot ahead of anything queued.
        for (const run of slot.active.slice(0, admission.count)) {
          this.end(
            slot,
            run,
            { status: 'interrupted', error: INTERRUPTED_BY_NEWER_RUN },
            { startNext: false },
          );
        }
        return this.startNew(slot, trigger, input, conversationId);
      case 'enqueue': {
        const record = this.recorder.createQueued(slot.agent, trigger, input, conversationId);
        slot.queue.push({ record, input: input ?? '' });
        this.schedulePump(slot);
        this.changed();
        return { accepted: true, runId: record.id, queued: true };
      }
      case 'start':
        return this.startNew(slot, trigger, input, conversationId);
    }
  }

  status(): Record<string, ReportedAgent> {
    const now = this.clock();
    const usage = this.deps.store.usage?.totalsByAgent({ since: now - (now % DAY_MS) });
    const out: Record<string, ReportedAgent> = {};
    for (const [agentId, slot] of this.slots) {
      const tokens = usage
        ? (usage.get(agentId)?.inputTokens ?? 0) + (usage.get(agentId)?.outputTokens ?? 0)
        : slot.tokens.day === utcDayOf(now)
          ? slot.tokens.total
          : 0;
      const reported: ReportedAgent = {
        version: slot.agent.version,
        status: 'idle',
        queued: slot.queue.length,
        tokensToday: tokens,
        ...(slot.lastRunAt !== undefined ? { lastRunAt: slot.lastRunAt } : {}),
        ...(slot.lastRunStatus !== undefined ? { lastRunStatus: slot.lastRunStatus } : {}),
      };
      const budgetBlock = this.budgetBlock(slot);
      const crashLoop = slot.holds.crashLoop();
      // Budget first (nothing runs until it reopens), then crash-looping (until a run succeeds).
      if (budgetBlock) {
        reported.status = 'budget-exhausted';
        reported.detail = budgetBlock;
      } else if (crashLoop) {
        reported.status = 'crash-looping';
        reported.detail = crashLoop;
      } else if (slot.active.length > 0) {
        reported.status = 'running';
        const ids = slot.active.map((run) => run.record.id);
        reported.detail = ids.length === 1 ? `run ${ids[0]}` : `${ids.length} runs: ${ids.join(', ')}`;
      }
      if (reported.detail) reported.detail = reported.detail.slice(0, 500);
      out[agentId] = reported;
    }
    return out;
  }

  /** The runs in progress, with their process ids (for diagnostics and benchmarks). */
  activeRuns(): { agentId: string; runId: string; pid: number | undefined; startedAt: number }[] {
    return [...this.slots.values()].flatMap((slot) =>
      slot.active.map((run) => ({
        agentId: slot.agent.id,
        runId: run.record.id,
        pid: run.process.pid,
        startedAt: run.startedAt,
      })),
    );
  }

  /** Called with the whole status after every change (a run starts or ends, the queue moves, agents change). */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Interrupts every run (reason: the device agent is stopping) and waits for their processes to exit
   * and for their model calls to settle, so the usage of an answer read in the abort grace is stored.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      slot.holds.dispose();
      this.dropQueue(slot, 'interrupted', STOPPING_REASON);
      for (const run of [...slot.active]) {
        exits.push(run.process.exited, run.modelCallsSettled);
        this.end(slot, run, { status: 'interrupted', error: STOPPING_REASON });
      }
    }
    this.changed();
    await Promise.all(exits);
  }

  // ------------------------------------------------------------------ runs

  private startNew(
    slot: AgentSlot,
    trigger: RunTrigger,
    input: string | undefined,
    conversationId: string | undefined,
  ): TriggerOutcome {
    const record = this.recorder.createRunning(slot.agent, trigger, input, conversationId);
    this.start(slot, record, input ?? '');
    return { accepted: true, runId: record.id, queued: false };
  }

  private start(slot: AgentSlot, record: RunRecord, input: string): void {
    const run = new ActiveRun(
      record,
      slot.agent,
      input,
      {
        gateway: this.deps.gateway,
        tools: this.deps.tools,
        recorder: this.recorder,
        clock: this.clock,
        process: {
          launch: this.launch,
          memoryPollMs: this.memoryPollMs,
          ...(this.deps.logger ? { logger: this.deps.logger } : {}),
        },
        end: (ended, ending) => this.end(slot, ended, ending),
        dayBudgetExhausted: (resetsAt) => slot.holds.blockForDay(resetsAt),
        tokensUsed: (tokens) => countTokens(slot, this.clock(), tokens),
        summarized: (throughTurnId, summary) => this.turns.keepSummary(record, throughTurnId, summary),
      },
      this.turns.historyOf(slot.agent, record),
    );
    slot.active.push(run);
    this.recorder.running(record);
    run.process.watch();
    this.changed();
  }

  /** Ends a run once: records its final state, stops its process, and moves the agent on. */
  private end(slot: AgentSlot, run: ActiveRun, ending: RunEnding, { startNext = true } = {}): void {
    if (run.finished) return;
    run.finished = true;
    run.abort.abort();
    run.process.stop();
    // Kept before the next run of the conversation can start (schedulePump below), so it sees this turn.
    if (ending.status === 'succeeded')
      this.turns.keep(slot.agent, run.record, run.input, ending.output ?? '');
    this.recorder.finished(run.record, ending, run.steps);
    slot.lastRunAt = run.record.endedAt;
    slot.lastRunStatus = ending.status;
    slot.holds.runEnded(ending);
    const index = slot.active.indexOf(run);
    if (index >= 0) slot.active.splice(index, 1);
    this.changed();
    if (startNext) this.schedulePump(slot);
  }

  /** Starts queued runs while the agent has free parallel runs, now or once its restart backoff is over. */
  private schedulePump(slot: AgentSlot): void {
    if (this.stopping || this.slots.get(slot.agent.id) !== slot) return;
    while (slot.queue.length > 0 && slot.active.length < slot.agent.definition.concurrency.maxParallel) {
      const budgetBlock = this.budgetBlock(slot);
      if (budgetBlock) {
        this.dropQueue(slot, 'rejected', budgetBlock);
        this.changed();
        return;
      }
      const wait = slot.holds.restartWaitMs();
      if (wait > 0) {
        slot.holds.afterRestartWait(wait, () => this.schedulePump(slot));
        return;
      }
      const index = nextStartable(slot.queue, slot.active);
      if (index < 0) return;
      const [next] = slot.queue.splice(index, 1);
      if (!next) return;
      this.recorder.dequeued(next.record);
      this.start(slot, next.record, next.input);
    }
  }

  private dropQueue(slot: AgentSlot, status: RunStatus, reason: string): void {
    for (const queued of slot.queue.splice(0)) this.recorder.dropped(queued.record, status, reason);
  }

  private budgetBlock(slot: AgentSlot): string | undefined {
    return slot.holds.budgetBlock(slot.agent.definition.budget.tokensPerDay);
  }

  private changed(): void {
    if (this.listeners.size === 0) return;
    const status = this.status();
    for (const listener of this.listeners) {
      try {
        listener(status);
      } catch (error) {
        this.deps.logger?.warn(`a status listener failed: ${errorText(error)}`);
      }
    }
  }
}

function utcDayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

function countTokens(slot: AgentSlot, now: number, tokens: number): void {
  const day = utcDayOf(now);
  if (slot.tokens.day !== day) slot.tokens = { day, total: 0 };
  slot.tokens.total += tokens;
}
