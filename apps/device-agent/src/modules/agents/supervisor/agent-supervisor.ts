import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AgentDefinition, ReportedAgent, RunEvent, RunRecord, RunStatus } from '@agentbox/schemas';
import {
  ModelGatewayError,
  ModelGatewayErrorCode,
  type InstalledAgent,
  type ModelCallResult,
  type ModelGatewayPort,
  type RunReporter,
  type RunTrigger,
  type ToolCall,
  type ToolSpec,
  type TriggerOutcome,
} from '../agents.contracts.js';
import type { NewRunEvent, RunStore } from '../store/run-store.js';
import type { UsageStore } from '../store/usage-store.js';
import type { ToolContext, ToolOutcome } from '../tools/tool-host.js';
import { toolIdOf } from '../tools/tool-host.js';
import { WorkerToParentSchema, type ParentToWorker, type WorkerToParent } from '../worker/ipc.js';
import { defaultWorkerLaunch, workerLaunchFor, type WorkerLaunch } from './worker-launch.js';

/** What the supervisor needs of the tool host (tools/tool-host.ts). */
export interface SupervisorTools {
  specsFor(definition: AgentDefinition): ToolSpec[];
  execute(context: ToolContext, call: ToolCall): Promise<ToolOutcome>;
}

export interface AgentSupervisorDeps {
  store: {
    runs: RunStore;
    /** When given, `tokensToday` in the status comes from the usage records of the current UTC day. */
    usage?: Pick<UsageStore, 'totalsByAgent'>;
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

export const STOPPING_REASON = 'the device agent is stopping';
export const RECOVERED_REASON =
  'the device agent stopped while the run was in progress (a crash, a kill or a power cut)';

const DAY_MS = 86_400_000;
const EVENT_DATA_MAX = 4_096;
const OUTPUT_MAX = 50_000;
const ERROR_MAX = 2_000;
const INPUT_MAX = 10_000;
const STDERR_TAIL = 4_096;
/** After `done`, the worker exits by itself; past this grace it is killed. */
const EXIT_GRACE_MS = 2_000;

interface Ending {
  status: RunStatus;
  error?: string;
  output?: string;
  /** A crash or a memory overrun: counts towards crash-looping and delays the agent's next run. */
  crash?: boolean;
}

interface ActiveRun {
  record: RunRecord;
  agent: InstalledAgent;
  input: string;
  child: ChildProcess;
  exited: Promise<void>;
  abort: AbortController;
  timers: NodeJS.Timeout[];
  busy: boolean;
  modelCalls: number;
  finished: boolean;
  /** The worker sent its last message and exits by itself. */
  exiting: boolean;
  stderrTail: string;
}

interface QueuedRun {
  record: RunRecord;
  input: string;
}

interface AgentSlot {
  agent: InstalledAgent;
  /** The runs in progress, oldest first; at most `concurrency.maxParallel` of them start. */
  active: ActiveRun[];
  queue: QueuedRun[];
  consecutiveCrashes: number;
  lastCrash?: string;
  /** No run starts before this time (restart backoff after a crash). */
  restartAt: number;
  restartTimer?: NodeJS.Timeout;
  /** The day budget is used up until this time. */
  budgetResetsAt?: number;
  budgetTimer?: NodeJS.Timeout;
  lastRunAt?: number;
  lastRunStatus?: RunStatus;
  /** Tokens of today's runs, for when no usage store is given. */
  tokens: { day: number; total: number };
}

type ChangeListener = (status: Record<string, ReportedAgent>) => void;

/**
 * Runs agents: one child process per run (the run worker), none for an idle agent, and up to
 * `concurrency.maxParallel` runs of one agent at once. It decides what a trigger does when all of an
 * agent's runs are in use (it is busy), enforces each run's memory and time limits, records every
 * run and its events (store first, then the reporter), answers the worker's model calls through the
 * gateway and its tool calls through the tool host, and restarts an agent whose runs crash with a
 * capped exponential backoff.
 */
export class AgentSupervisor {
  private readonly slots = new Map<string, AgentSlot>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly runs: RunStore;
  private readonly newId: () => string;
  private readonly clock: () => number;
  private readonly launch: WorkerLaunch;
  private readonly backoff: { baseMs: number; capMs: number };
  private readonly crashLoopAfter: number;
  private readonly memoryPollMs: number;
  private stopping = false;

  constructor(private readonly deps: AgentSupervisorDeps) {
    this.runs = deps.store.runs;
    this.newId = deps.newId ?? randomUUID;
    this.clock = deps.clock ?? Date.now;
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
    const records = this.runs.interruptStale(RECOVERED_REASON);
    for (const record of records) {
      this.report(() => this.deps.reporter.run({ ...record }));
      this.appendEvent(record, { type: 'status', name: 'interrupted', error: RECOVERED_REASON });
    }
    return records;
  }

  /** Installs an agent or replaces its definition; a run in progress finishes on the definition it started with. */
  upsert(agent: InstalledAgent): void {
    const slot = this.slots.get(agent.id);
    if (slot) {
      // A new budget is a new decision by the owner: the old day block no longer holds.
      if (JSON.stringify(slot.agent.definition.budget) !== JSON.stringify(agent.definition.budget)) {
        slot.budgetResetsAt = undefined;
        clearTimeout(slot.budgetTimer);
      }
      slot.agent = agent;
      // More parallel runs allowed: queued runs may start now.
      this.schedulePump(slot);
    } else {
      this.slots.set(agent.id, {
        agent,
        active: [],
        queue: [],
        consecutiveCrashes: 0,
        restartAt: 0,
        tokens: { day: this.utcDayOf(this.clock()), total: 0 },
      });
    }
    this.changed();
  }

  /** Uninstalls an agent: its run in progress and its queued runs are interrupted. */
  async remove(agentId: string): Promise<void> {
    const slot = this.slots.get(agentId);
    if (!slot) return;
    this.slots.delete(agentId);
    clearTimeout(slot.restartTimer);
    clearTimeout(slot.budgetTimer);
    const reason = 'the agent was removed from this box';
    this.dropQueue(slot, 'interrupted', reason);
    const runs = [...slot.active];
    for (const run of runs) this.end(slot, run, { status: 'interrupted', error: reason });
    this.changed();
    await Promise.all(runs.map((run) => run.exited));
  }

  trigger(agentId: string, trigger: RunTrigger, input?: string): TriggerOutcome {
    try {
      return this.admit(agentId, trigger, input);
    } catch (error) {
      // The store failed (disk full, I/O error): the caller learns why instead of catching.
      this.deps.logger?.warn(`a run of ${agentId} could not be admitted: ${errorText(error)}`);
      return { accepted: false, reason: `the run could not be recorded on the box: ${errorText(error)}` };
    }
  }

  private admit(agentId: string, trigger: RunTrigger, input: string | undefined): TriggerOutcome {
    const slot = this.slots.get(agentId);
    if (!slot) return { accepted: false, reason: `no agent "${agentId}" is installed on this box` };
    if (this.stopping) return this.reject(slot, trigger, input, STOPPING_REASON);
    if (input !== undefined && input.length > INPUT_MAX) {
      return this.reject(slot, trigger, undefined, `the input is longer than ${INPUT_MAX} characters`);
    }
    const budgetBlock = this.budgetBlock(slot);
    if (budgetBlock) return this.reject(slot, trigger, input, budgetBlock);

    const { maxParallel, onBusy, queueSize } = slot.agent.definition.concurrency;
    const restarting = slot.restartAt > this.clock();
    const oldest = slot.active[0];
    const busy = slot.active.length >= maxParallel;
    if (busy && onBusy === 'interrupt' && !restarting) {
      // The oldest runs give way (more than one only after maxParallel was lowered); the newcomer takes
      // the freed slot ahead of anything queued.
      for (const run of slot.active.slice(0, slot.active.length - maxParallel + 1)) {
        this.end(
          slot,
          run,
          {
            status: 'interrupted',
            error: 'interrupted by a newer run (the agent is set to interrupt when busy)',
          },
          { startNext: false },
        );
      }
      return this.startNew(slot, trigger, input);
    }
    if (busy && oldest && onBusy === 'reject') {
      const reason =
        slot.active.length === 1
          ? `the agent is busy with run ${oldest.record.id} (it is set to reject runs when busy)`
          : `the agent is busy with runs ${slot.active.map((run) => run.record.id).join(', ')} ` +
            `(all ${slot.active.length} of its parallel runs; it is set to reject runs when busy)`;
      return this.reject(slot, trigger, input, reason);
    }
    if (busy || restarting || slot.queue.length > 0) {
      if (slot.queue.length >= queueSize) {
        return this.reject(
          slot,
          trigger,
          input,
          `the agent's queue is full (${slot.queue.length} run${slot.queue.length === 1 ? '' : 's'} waiting)`,
        );
      }
      const record = this.newRecord(slot, trigger, input, 'queued');
      this.runs.create(record);
      this.report(() => this.deps.reporter.run({ ...record }));
      this.appendEvent(record, { type: 'status', name: 'queued' });
      slot.queue.push({ record, input: input ?? '' });
      this.schedulePump(slot);
      this.changed();
      return { accepted: true, runId: record.id, queued: true };
    }
    return this.startNew(slot, trigger, input);
  }

  status(): Record<string, ReportedAgent> {
    const now = this.clock();
    const usage = this.deps.store.usage?.totalsByAgent({ since: now - (now % DAY_MS) });
    const out: Record<string, ReportedAgent> = {};
    for (const [agentId, slot] of this.slots) {
      const tokens = usage
        ? (usage.get(agentId)?.inputTokens ?? 0) + (usage.get(agentId)?.outputTokens ?? 0)
        : slot.tokens.day === this.utcDayOf(now)
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
      // Budget first (nothing runs until it reopens), then crash-looping (until a run succeeds).
      if (budgetBlock) {
        reported.status = 'budget-exhausted';
        reported.detail = budgetBlock;
      } else if (slot.consecutiveCrashes >= this.crashLoopAfter) {
        reported.status = 'crash-looping';
        reported.detail = `the last ${slot.consecutiveCrashes} runs crashed; the last: ${slot.lastCrash ?? 'unknown'}`;
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
        pid: run.child.pid,
        startedAt: run.record.startedAt ?? run.record.createdAt,
      })),
    );
  }

  /** Called with the whole status after every change (a run starts or ends, the queue moves, agents change). */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Interrupts every run (reason: the device agent is stopping) and waits for their processes to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const slot of this.slots.values()) {
      clearTimeout(slot.restartTimer);
      clearTimeout(slot.budgetTimer);
      this.dropQueue(slot, 'interrupted', STOPPING_REASON);
      for (const run of [...slot.active]) {
        exits.push(run.exited);
        this.end(slot, run, { status: 'interrupted', error: STOPPING_REASON });
      }
    }
    this.changed();
    await Promise.all(exits);
  }

  // ------------------------------------------------------------------ runs

  private startNew(slot: AgentSlot, trigger: RunTrigger, input: string | undefined): TriggerOutcome {
    const record = this.newRecord(slot, trigger, input, 'running');
    record.startedAt = record.createdAt;
    this.runs.create(record);
    this.start(slot, record, input ?? '');
    return { accepted: true, runId: record.id, queued: false };
  }

  private start(slot: AgentSlot, record: RunRecord, input: string): void {
    const agent = slot.agent;
    const { memoryMb, runTimeoutSec } = agent.definition.limits;
    const child = fork(this.launch.path, [], {
      execArgv: [...this.launch.execArgv, `--max-old-space-size=${memoryMb}`],
      // The worker needs nothing from the device agent's environment (which may hold a claim token).
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: process.env.NODE_ENV ?? 'production' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const run: ActiveRun = {
      record,
      agent,
      input,
      child,
      exited: new Promise<void>((resolve) => child.once('exit', () => resolve())),
      abort: new AbortController(),
      timers: [],
      busy: false,
      modelCalls: 0,
      finished: false,
      exiting: false,
      stderrTail: '',
    };
    slot.active.push(run);
    this.report(() => this.deps.reporter.run({ ...record }));
    this.appendEvent(record, { type: 'status', name: 'running' });

    child.stderr?.on('data', (chunk: Buffer) => {
      run.stderrTail = (run.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.on('error', (error) => {
      this.end(slot, run, {
        status: 'failed',
        error: `the run process could not be started: ${error.message}`,
      });
    });
    child.on('message', (raw: unknown) => {
      this.onWorkerMessage(slot, run, raw).catch((error: unknown) => {
        this.end(slot, run, {
          status: 'failed',
          error: `the run failed in the device agent: ${errorText(error)}`,
        });
      });
    });
    // 'close' comes after the last IPC message and stderr chunk, so a `done` sent just before exiting is seen.
    child.on('close', (code, signal) => {
      if (run.finished) return;
      const heap = /heap out of memory|Reached heap limit/i.test(run.stderrTail);
      this.end(
        slot,
        run,
        heap
          ? {
              status: 'failed',
              error: `the run process ran out of memory (its limit is ${memoryMb} MB) and was stopped`,
              crash: true,
            }
          : {
              status: 'interrupted',
              error: `the run process ended unexpectedly (${signal ? `killed by ${signal}` : `exit code ${code}`})`,
              crash: true,
            },
      );
    });

    run.timers.push(
      setTimeout(() => {
        this.end(slot, run, {
          status: 'timed-out',
          error: `the run took longer than its limit of ${runTimeoutSec} s and was stopped`,
        });
      }, runTimeoutSec * 1_000),
    );
    run.timers.push(setInterval(() => void this.checkMemory(slot, run, memoryMb), this.memoryPollMs));
    this.changed();
  }

  private async checkMemory(slot: AgentSlot, run: ActiveRun, memoryMb: number): Promise<void> {
    const pid = run.child.pid;
    if (run.finished || pid === undefined) return;
    let status: string;
    try {
      status = await readFile(`/proc/${pid}/status`, 'utf8');
    } catch {
      return; // exited meanwhile, or no procfs: the V8 heap cap still applies
    }
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
    if (kb > memoryMb * 1024) {
      this.end(slot, run, {
        status: 'failed',
        error: `the run process used ${Math.round(kb / 1024)} MB, over its memory limit of ${memoryMb} MB, and was stopped`,
        crash: true,
      });
    }
  }

  private async onWorkerMessage(slot: AgentSlot, run: ActiveRun, raw: unknown): Promise<void> {
    if (run.finished) return;
    const parsed = WorkerToParentSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.end(slot, run, {
        status: 'failed',
        error: `the run process sent a malformed message (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
      });
      return;
    }
    const message: WorkerToParent = parsed.data;
    if ((message.type === 'model' || message.type === 'tool') && run.busy) {
      this.end(slot, run, {
        status: 'failed',
        error: 'the run process sent a request while another was outstanding',
      });
      return;
    }
    switch (message.type) {
      case 'ready':
        this.send(run, {
          type: 'start',
          runId: run.record.id,
          input: run.input,
          maxSteps: run.agent.definition.limits.maxSteps,
        });
        return;
      case 'model':
        return this.modelCall(slot, run, message);
      case 'tool':
        return this.toolCall(slot, run, message);
      case 'done':
        run.exiting = true;
        this.appendEvent(run.record, { type: 'text', data: truncateData(message.output) });
        this.end(slot, run, { status: 'succeeded', output: message.output });
        return;
      case 'failed':
        run.exiting = true;
        this.end(slot, run, { status: 'failed', error: message.error });
        return;
    }
  }

  private async modelCall(
    slot: AgentSlot,
    run: ActiveRun,
    message: Extract<WorkerToParent, { type: 'model' }>,
  ): Promise<void> {
    const definition = run.agent.definition;
    if (run.modelCalls >= definition.limits.maxSteps) {
      this.end(slot, run, {
        status: 'failed',
        error: `the run used all of its ${definition.limits.maxSteps} steps without a final answer`,
      });
      return;
    }
    run.modelCalls++;
    run.busy = true;
    const startedAt = this.clock();
    let result: ModelCallResult;
    try {
      result = await this.deps.gateway.call(
        {
          agentId: run.agent.id,
          runId: run.record.id,
          models: [definition.model, ...definition.fallbacks],
          system: definition.instructions,
          messages: message.messages,
          tools: this.deps.tools.specsFor(definition),
          maxOutputTokens: definition.limits.maxOutputTokens,
          budget: definition.budget,
        },
        run.abort.signal,
      );
    } catch (error) {
      if (run.finished) return;
      this.appendEvent(run.record, {
        type: 'model',
        name: definition.model.model,
        durationMs: Math.max(0, this.clock() - startedAt),
        error: errorText(error).slice(0, ERROR_MAX),
      });
      if (error instanceof ModelGatewayError && error.code === ModelGatewayErrorCode.BUDGET_EXHAUSTED) {
        if (error.detail?.budget === 'day') this.blockForDay(slot, error.detail.resetsAt);
        this.end(slot, run, { status: 'budget-exhausted', error: error.message });
      } else {
        this.end(slot, run, { status: 'failed', error: errorText(error) });
      }
      return;
    }
    run.busy = false;
    if (run.finished) return;
    run.record.steps = run.modelCalls;
    run.record.usage = {
      inputTokens: run.record.usage.inputTokens + result.inputTokens,
      outputTokens: run.record.usage.outputTokens + result.outputTokens,
    };
    this.countTokens(slot, result.inputTokens + result.outputTokens);
    this.appendEvent(run.record, {
      type: 'model',
      name: result.model,
      inputTokens: result.inputTokens,
      outputTokens: result.outputTokens,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      data: {
        provider: result.provider,
        finishReason: result.finishReason,
        estimated: result.estimated,
        ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls.map((call) => call.name) } : {}),
      },
    });
    this.send(run, {
      type: 'model-result',
      requestId: message.requestId,
      text: result.text,
      toolCalls: result.toolCalls,
    });
  }

  private async toolCall(
    slot: AgentSlot,
    run: ActiveRun,
    message: Extract<WorkerToParent, { type: 'tool' }>,
  ): Promise<void> {
    const name = toolIdOf(message.call.name) ?? message.call.name;
    this.appendEvent(run.record, { type: 'tool-call', name, data: truncateData(message.call.input) });
    run.busy = true;
    const startedAt = this.clock();
    let outcome: ToolOutcome;
    try {
      outcome = await this.deps.tools.execute({ agent: run.agent, runId: run.record.id }, message.call);
    } catch (error) {
      outcome = { ok: false, error: errorText(error) };
    }
    run.busy = false;
    if (run.finished) return;
    this.appendEvent(run.record, {
      type: 'tool-result',
      name,
      durationMs: Math.max(0, this.clock() - startedAt),
      ...(outcome.ok ? { data: truncateData(outcome.output) } : { error: outcome.error.slice(0, ERROR_MAX) }),
    });
    this.send(run, { type: 'tool-result', requestId: message.requestId, outcome });
  }

  /** Ends a run once: records its final state, stops its process, and moves the agent on. */
  private end(slot: AgentSlot, run: ActiveRun, ending: Ending, { startNext = true } = {}): void {
    if (run.finished) return;
    run.finished = true;
    for (const timer of run.timers) clearTimeout(timer);
    run.abort.abort();
    if (run.exiting) {
      // The worker exits by itself after its last message; only a worker that lingers is killed.
      setTimeout(() => killProcess(run.child), EXIT_GRACE_MS).unref();
    } else {
      killProcess(run.child);
    }

    const now = this.clock();
    const record = run.record;
    record.status = ending.status;
    record.endedAt = Math.max(now, record.startedAt ?? record.createdAt);
    record.steps = run.modelCalls;
    if (ending.output !== undefined) record.output = ending.output.slice(0, OUTPUT_MAX);
    if (ending.error !== undefined) record.error = ending.error.slice(0, ERROR_MAX);
    this.appendEvent(record, {
      type: 'status',
      name: ending.status,
      ...(record.error !== undefined ? { error: record.error } : {}),
    });
    try {
      this.runs.update(record);
    } catch (error) {
      this.deps.logger?.warn(`run ${record.id} could not be stored: ${errorText(error)}`);
    }
    this.report(() => this.deps.reporter.run({ ...record }));

    slot.lastRunAt = record.endedAt;
    slot.lastRunStatus = ending.status;
    if (ending.crash) {
      slot.consecutiveCrashes++;
      slot.lastCrash = ending.error;
      const delay = Math.min(2 ** (slot.consecutiveCrashes - 1) * this.backoff.baseMs, this.backoff.capMs);
      slot.restartAt = now + delay;
    } else if (ending.status === 'succeeded') {
      slot.consecutiveCrashes = 0;
      slot.lastCrash = undefined;
    }
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
      const wait = slot.restartAt - this.clock();
      if (wait > 0) {
        clearTimeout(slot.restartTimer);
        slot.restartTimer = setTimeout(() => this.schedulePump(slot), wait);
        return;
      }
      const next = slot.queue.shift();
      if (!next) return;
      next.record.status = 'running';
      next.record.startedAt = this.clock();
      this.runs.update(next.record);
      this.start(slot, next.record, next.input);
    }
  }

  private dropQueue(slot: AgentSlot, status: RunStatus, reason: string): void {
    for (const queued of slot.queue.splice(0)) {
      const record: RunRecord = {
        ...queued.record,
        status,
        error: reason.slice(0, ERROR_MAX),
        endedAt: this.clock(),
      };
      this.appendEvent(record, { type: 'status', name: status, error: record.error });
      this.runs.update(record);
      this.report(() => this.deps.reporter.run({ ...record }));
    }
  }

  private reject(
    slot: AgentSlot,
    trigger: RunTrigger,
    input: string | undefined,
    reason: string,
  ): TriggerOutcome {
    const record = this.newRecord(slot, trigger, input, 'rejected');
    record.error = reason.slice(0, ERROR_MAX);
    record.endedAt = record.createdAt;
    try {
      this.runs.create(record);
      this.appendEvent(record, { type: 'status', name: 'rejected', error: record.error });
    } catch (error) {
      this.deps.logger?.warn(`rejected run ${record.id} could not be stored: ${errorText(error)}`);
    }
    this.report(() => this.deps.reporter.run({ ...record }));
    return { accepted: false, reason };
  }

  private newRecord(
    slot: AgentSlot,
    trigger: RunTrigger,
    input: string | undefined,
    status: RunStatus,
  ): RunRecord {
    return {
      id: this.newId(),
      agentId: slot.agent.id,
      agentVersion: slot.agent.version,
      trigger,
      status,
      ...(input !== undefined ? { input: input.slice(0, INPUT_MAX) } : {}),
      createdAt: this.clock(),
      steps: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
    };
  }

  // ------------------------------------------------------------------ budget, tokens

  private budgetBlock(slot: AgentSlot): string | undefined {
    if (slot.budgetResetsAt === undefined || slot.budgetResetsAt <= this.clock()) return undefined;
    return `the agent's daily token budget (${slot.agent.definition.budget.tokensPerDay} tokens) is used up until ${new Date(slot.budgetResetsAt).toISOString()}`;
  }

  private blockForDay(slot: AgentSlot, resetsAt: number | undefined): void {
    const now = this.clock();
    slot.budgetResetsAt = resetsAt ?? now - (now % DAY_MS) + DAY_MS;
    clearTimeout(slot.budgetTimer);
    // Timers hold at most ~24.8 days; a day window is far shorter.
    slot.budgetTimer = setTimeout(() => this.changed(), Math.max(0, slot.budgetResetsAt - now) + 10);
    slot.budgetTimer.unref();
  }

  private countTokens(slot: AgentSlot, tokens: number): void {
    const day = this.utcDayOf(this.clock());
    if (slot.tokens.day !== day) slot.tokens = { day, total: 0 };
    slot.tokens.total += tokens;
  }

  private utcDayOf(ts: number): number {
    return Math.floor(ts / DAY_MS);
  }

  // ------------------------------------------------------------------ plumbing

  /** Stores the event (which gives it its index), then reports it. */
  private appendEvent(record: RunRecord, event: Omit<NewRunEvent, 'runId' | 'agentId' | 'ts'>): void {
    let stored: RunEvent;
    try {
      stored = this.runs.appendEvent({
        runId: record.id,
        agentId: record.agentId,
        ts: this.clock(),
        ...event,
      });
    } catch (error) {
      this.deps.logger?.warn(`an event of run ${record.id} could not be stored: ${errorText(error)}`);
      return;
    }
    this.report(() => this.deps.reporter.event(stored));
  }

  private send(run: ActiveRun, message: ParentToWorker): void {
    if (!run.child.connected) return;
    run.child.send(message, (error) => {
      if (error)
        this.deps.logger?.warn(`run ${run.record.id}: message to the run process lost: ${error.message}`);
    });
  }

  private report(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.deps.logger?.warn(`reporting failed: ${errorText(error)}`);
    }
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

function killProcess(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Event data is kept to a few KiB: longer text is cut, a larger structure is kept as a cut JSON preview. */
export function truncateData(value: unknown): unknown {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    return value.length > EVENT_DATA_MAX ? `${value.slice(0, EVENT_DATA_MAX)}…` : value;
  }
  const json = JSON.stringify(value);
  if (json === undefined) return undefined;
  return json.length > EVENT_DATA_MAX ? { truncated: true, preview: json.slice(0, EVENT_DATA_MAX) } : value;
}
