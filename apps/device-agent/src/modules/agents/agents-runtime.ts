import type {
  CommandMessage,
  DesiredStateMessage,
  DeviceEvent,
  ReportedAgent,
  SealedSecret,
  TelemetryMessage,
  UsageRecord,
} from '@agentbox/schemas';
import { SCHEMA_VERSION } from '@agentbox/schemas';
import type { CommandOutcome } from '../commands/commands.service.js';
import type { InstalledAgent, RunTrigger, TriggerOutcome } from './agents.contracts.js';
import { BudgetLedger } from './gateway/budget-ledger.js';
import { ModelGateway } from './gateway/model-gateway.js';
import { BoxProviderDirectory } from './providers/provider-directory.js';
import { AgentReconciler } from './reconciler/agent-reconciler.js';
import { AgentUsageMetrics } from './reporting/agent-usage-metrics.js';
import { ReportJournal } from './reporting/report-journal.js';
import { reportedAgents } from './reporting/reported-agents.js';
import { SpoolRunReporter } from './reporting/spool-run-reporter.js';
import { openAgentStores, type AgentStores } from './store/agent-stores.js';
import { AgentSupervisor } from './supervisor/agent-supervisor.js';
import { ToolHost } from './tools/tool-host.js';
import { runAgentCommand } from './triggers/agent-run-command.js';
import { AgentSchedules } from './triggers/agent-schedules.js';
import { WebhookServer } from './triggers/webhook-server.js';

/** The device agent's outbox as the agents use it. */
export interface AgentsOutbox {
  append(channel: 'runs' | 'run-events' | 'usage' | 'telemetry', message: object): Promise<unknown>;
  event(event: DeviceEvent): Promise<void>;
}

export interface AgentsLogger {
  log(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface AgentsRuntimeOptions {
  stateDir: string;
  /** 0: no webhook. */
  webhookPort: number;
  retention: { maxAgeDays: number; maxBytes: number };
  outbox: AgentsOutbox;
  nextSeq: () => number;
  openSecret: (sealed: SealedSecret) => string;
  logger: AgentsLogger;
  /** Called when what `reportedAgents()` returns may have changed. */
  onStateChange?: () => void;
  /** The run worker module (tests); defaults to the built one. */
  workerPath?: string;
  retentionEveryMs?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The agent runtime of the box, put together: agents.db, the budget ledger, the model gateway, the
 * tool host, the supervisor, the reconciler, the schedules and the webhook, plus reporting and
 * retention. Kept free of Nest so it starts and stops the same way in tests and in the agent.
 *
 * Start order: the database, interrupted runs marked as such (and reported again), the installed
 * agents handed to the supervisor, then schedules and the webhook. The desired state comes after.
 */
export class AgentsRuntime {
  private stores: AgentStores | undefined;
  private supervisor: AgentSupervisor | undefined;
  private reconciler: AgentReconciler | undefined;
  private schedules: AgentSchedules | undefined;
  private webhook: WebhookServer | undefined;
  private reporter: SpoolRunReporter | undefined;
  private readonly directory = new BoxProviderDirectory();
  private readonly metrics = new AgentUsageMetrics();
  private readonly timers: NodeJS.Timeout[] = [];
  private metricsTimer: NodeJS.Timeout | undefined;
  private pendingTarget: DesiredStateMessage['spec'] | undefined;
  private unsubscribes: (() => void)[] = [];

  constructor(private readonly options: AgentsRuntimeOptions) {}

  get started(): boolean {
    return this.reconciler !== undefined;
  }

  /** The loopback port the webhook listens on, when it does. */
  get webhookPort(): number | undefined {
    return this.webhook?.port;
  }

  async start(): Promise<void> {
    const { logger } = this.options;
    const stores = openAgentStores(this.options.stateDir);
    this.stores = stores;
    const journal = new ReportJournal(stores.db);
    const reporter = new SpoolRunReporter(this.options.outbox, logger, {
      nextSeq: this.options.nextSeq,
      journal,
    });
    this.reporter = reporter;
    const gateway = new ModelGateway({
      providers: this.directory,
      ledger: new BudgetLedger(stores.db),
      onUsage: (usage) => this.onUsage(usage),
      logger: { warn: (message) => logger.warn(message) },
    });
    const tools = new ToolHost({
      stateDir: this.options.stateDir,
      memory: stores.memory,
      publish: (agentId, payload, context) =>
        this.options.outbox.event({
          type: 'agent.publish',
          level: 'info',
          message: `agent ${agentId} published a result`,
          data: { agentId, runId: context.runId, payload },
        }),
      notify: (agentId, notification, context) =>
        this.options.outbox.event({
          type: 'agent.notify',
          level: notification.level === 'warning' ? 'warn' : notification.level,
          message: (notification.title
            ? `${notification.title}: ${notification.message}`
            : notification.message
          ).slice(0, 2_000),
          data: { agentId, runId: context.runId },
        }),
    });
    const supervisor = new AgentSupervisor({
      store: { runs: stores.runs, usage: stores.usage },
      gateway,
      tools,
      reporter,
      workerPath: this.options.workerPath,
      logger: { warn: (message) => logger.warn(message) },
    });
    this.supervisor = supervisor;

    // Reports the previous process had not yet put into the spool when it died go now.
    const unsent = { runs: journal.ids('run'), events: journal.ids('events'), usage: journal.usage() };
    for (const runId of unsent.runs) {
      const record = stores.runs.get(runId);
      if (record) reporter.run(record);
    }
    for (const runId of unsent.events) for (const event of stores.runs.events(runId)) reporter.event(event);
    for (const record of unsent.usage) reporter.usage(record);
    if (unsent.runs.length + unsent.events.length + unsent.usage.length > 0)
      logger.log('reports not spooled before the last stop sent again', {
        runs: unsent.runs.length,
        runEvents: unsent.events.length,
        usage: unsent.usage.length,
      });

    const recovered = supervisor.recoverAtStart();
    for (const record of recovered) {
      // Steps spooled just before a crash may not have made it: sent again, the cloud keeps each (run, index) once.
      for (const event of stores.runs.events(record.id)) reporter.event(event);
    }
    if (recovered.length > 0)
      logger.log('runs left running by the previous process marked interrupted', {
        runs: recovered.map((r) => r.id),
      });

    const reconciler = new AgentReconciler(
      supervisor,
      stores.installed,
      this.directory,
      this.options.openSecret,
      logger,
    );
    const schedules = new AgentSchedules(
      (agentId, trigger, input) => this.fire(agentId, trigger, input),
      logger,
    );
    this.schedules = schedules;
    this.unsubscribes.push(
      reconciler.onChange(() => {
        schedules.sync(reconciler.installedAgents());
        this.options.onStateChange?.();
      }),
      supervisor.onChange(() => this.options.onStateChange?.()),
      this.directory.onChange(() => this.options.onStateChange?.()),
    );
    await reconciler.start();
    this.reconciler = reconciler;
    schedules.sync(reconciler.installedAgents());

    if (this.options.webhookPort > 0) {
      const webhook = new WebhookServer({
        port: this.options.webhookPort,
        findAgent: (agentId) => this.findAgent(agentId),
        fire: (agentId, trigger, input) => this.fire(agentId, trigger, input),
        logger,
      });
      try {
        await webhook.start();
        this.webhook = webhook;
        logger.log('agent webhook listening', { address: `127.0.0.1:${webhook.port}` });
      } catch (error) {
        // The agents run without it; the operator sees why.
        logger.warn('the agent webhook could not listen', {
          port: this.options.webhookPort,
          err: (error as Error).message,
        });
      }
    }

    this.applyRetention();
    const retention = setInterval(() => this.applyRetention(), this.options.retentionEveryMs ?? HOUR_MS);
    retention.unref();
    this.timers.push(retention);
    this.scheduleMetrics();

    if (this.pendingTarget) this.setDesired(this.pendingTarget);
    this.options.onStateChange?.();
  }

  /** Takes spec.agents / spec.providers of an applied desired state. */
  setDesired(spec: DesiredStateMessage['spec']): void {
    if (!this.reconciler) {
      this.pendingTarget = spec;
      return;
    }
    this.pendingTarget = undefined;
    this.reconciler.setTarget({ agents: spec.agents, providers: spec.providers });
  }

  /** `up/state` current.agents. */
  reportedAgents(): Record<string, ReportedAgent> {
    const reconciler = this.reconciler;
    const supervisor = this.supervisor;
    if (!reconciler || !supervisor) return {};
    return reportedAgents({
      installed: reconciler.installedAgents(),
      runtime: supervisor.status(),
      pending: reconciler.pending(),
      failures: reconciler.failures(),
      providerProblem: (id) => this.directory.problem(id),
      hasProvider: (id) => this.directory.has(id),
    });
  }

  /** Health of the reconciler: how long an apply cycle has been stuck (0 when it is not). */
  reconcileStuckForMs(): number {
    return this.reconciler?.stuckFor() ?? 0;
  }

  /** Runs in progress right now (an update waits for them before restarting the box). */
  activeRunCount(): number {
    return this.supervisor?.activeRuns().length ?? 0;
  }

  /** Reconcile steps not yet applied (0 once the box runs what the desired state asks for). */
  reconcilePendingSteps(): number {
    return this.reconciler?.pending().length ?? 0;
  }

  reconcileHealthy(): boolean {
    return this.reconciler?.isHealthy() ?? true;
  }

  /** Settles once the reconciler has nothing left to do (tests). */
  async reconciled(): Promise<void> {
    await this.reconciler?.idle();
  }

  /** The `agent.run` command. */
  runCommand(command: CommandMessage): Promise<CommandOutcome> {
    return runAgentCommand(
      command,
      (agentId) => this.findAgent(agentId),
      (agentId, trigger, input) => this.fire(agentId, trigger, input),
    );
  }

  /** Stops triggers first (no new runs), then interrupts the runs, then flushes reports and closes the database. */
  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    clearTimeout(this.metricsTimer);
    this.schedules?.stop();
    await this.webhook?.stop();
    await this.reconciler?.stop();
    await this.supervisor?.stop();
    await this.flushMetrics(true);
    await this.reporter?.flush();
    this.stores?.close();
    this.stores = undefined;
    this.reconciler = undefined;
    this.supervisor = undefined;
  }

  private findAgent(agentId: string): InstalledAgent | undefined {
    return this.reconciler?.installedAgents().find((agent) => agent.id === agentId);
  }

  private fire(agentId: string, trigger: RunTrigger, input: string | undefined): TriggerOutcome {
    if (!this.supervisor) return { accepted: false, reason: 'the agent runtime is not running' };
    return this.supervisor.trigger(agentId, trigger, input);
  }

  private onUsage(usage: UsageRecord): void {
    try {
      // The local copy first: it is what `tokensToday` and the budget views read.
      if (this.stores?.usage.record(usage) === false) return; // seen before: never counted twice
    } catch (error) {
      this.options.logger.warn('a usage record could not be stored', { err: (error as Error).message });
    }
    this.reporter?.usage(usage);
    this.metrics.add(usage);
  }

  private applyRetention(): void {
    const stores = this.stores;
    if (!stores) return;
    try {
      const { maxAgeDays, maxBytes } = this.options.retention;
      const runs = stores.runs.prune({ maxAgeDays, maxBytes });
      const usage = stores.usage.prune(Date.now() - maxAgeDays * DAY_MS);
      if (runs.deletedRuns > 0 || usage > 0)
        this.options.logger.log('run history pruned', { ...runs, usageRecords: usage });
    } catch (error) {
      this.options.logger.warn('pruning the run history failed', { err: (error as Error).message });
    }
  }

  private scheduleMetrics(): void {
    this.metricsTimer = setTimeout(() => {
      void this.flushMetrics(false);
      this.scheduleMetrics();
    }, this.metrics.msToNextMinute() + 50);
    this.metricsTimer.unref();
  }

  /** Tokens per agent per minute go out as telemetry, one sample per finished minute. */
  private async flushMetrics(all: boolean): Promise<void> {
    const samples = this.metrics.takeCompleted(all ? Date.now() + 60_000 : Date.now());
    if (samples.length === 0) return;
    const message: TelemetryMessage = {
      v: SCHEMA_VERSION,
      seq: this.options.nextSeq(),
      ts: Date.now(),
      samples,
    };
    await this.options.outbox.append('telemetry', message).catch((error: unknown) => {
      this.options.logger.warn('agent token metrics could not be spooled', { err: (error as Error).message });
    });
  }
}
