import { Inject, Injectable } from '@nestjs/common';
import type { DesiredStateMessage, ReportedAgent } from '@agentbox/schemas';
import { BoxConfig } from '../../../config/box-config.js';
import type { AgentsLogger, InstalledAgent, RunTrigger, TriggerOutcome } from '../agents.contracts.js';
import { BoxProviderDirectory } from '../providers/provider-directory.js';
import { AgentReconciler } from '../reconciler/agent-reconciler.js';
import { RunRecovery } from '../recovery/run-recovery.js';
import { reportedAgents } from '../reporting/reported-agents.js';
import { SpoolRunReporter } from '../reporting/spool-run-reporter.js';
import { UsageTelemetry } from '../reporting/usage-telemetry.js';
import type { AgentStores } from '../store/agent-stores.js';
import { RunRetention } from '../store/run-retention.js';
import { AgentSupervisor } from '../supervisor/agent-supervisor.js';
import { AgentSchedules } from '../triggers/agent-schedules.js';
import { RunTriggers } from '../triggers/run-triggers.js';
import type { WebhookServer } from '../triggers/webhook-server.js';
import { AGENT_STORES, AGENT_WEBHOOK, AGENTS_LOGGER } from './agents-runtime.providers.js';

/**
 * The box's agent runtime once built: starts and stops its parts in order, and answers what the rest
 * of the box asks of the agents.
 */
@Injectable()
export class AgentsRuntime {
  private unsubscribes: (() => void)[] = [];
  private reconcilerStarted = false;

  constructor(
    @Inject(AGENT_STORES) private readonly stores: AgentStores,
    private readonly reporter: SpoolRunReporter,
    private readonly recovery: RunRecovery,
    private readonly supervisor: AgentSupervisor,
    private readonly reconciler: AgentReconciler,
    private readonly directory: BoxProviderDirectory,
    private readonly triggers: RunTriggers,
    private readonly schedules: AgentSchedules,
    @Inject(AGENT_WEBHOOK) private readonly webhook: WebhookServer | null,
    private readonly retention: RunRetention,
    private readonly usage: UsageTelemetry,
    @Inject(AGENTS_LOGGER) private readonly logger: AgentsLogger,
    private readonly config: BoxConfig,
  ) {}

  /** The reconciler runs the installed agents (until stop). */
  get started(): boolean {
    return this.reconcilerStarted;
  }

  /**
   * Start order, before the box is online: triggers are taken (the supervisor exists), what the
   * previous process left is recovered (unsent reports, then interrupted runs), the installed agents
   * go to the supervisor (reconciler.start), then the schedules and the webhook fire, retention and
   * the token metrics run. The desired state comes after (AgentsService).
   */
  async start(onStateChange: () => void): Promise<void> {
    this.triggers.accept();
    this.recovery.run();
    this.unsubscribes.push(
      this.reconciler.onChange(() => {
        this.schedules.sync(this.reconciler.installedAgents());
        onStateChange();
      }),
      this.supervisor.onChange(() => onStateChange()),
      this.directory.onChange(() => onStateChange()),
    );
    await this.reconciler.start();
    this.reconcilerStarted = true;
    this.schedules.sync(this.reconciler.installedAgents());
    await this.startWebhook();
    this.retention.start();
    this.usage.start();
  }

  /** Stops triggers first (no new runs), then interrupts the runs, then flushes reports and closes agents.db. */
  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.retention.stop();
    this.usage.stop();
    this.schedules.stop();
    await this.webhook?.stop();
    await this.reconciler.stop();
    await this.supervisor.stop();
    await this.usage.flush(true);
    await this.reporter.flush();
    this.stores.close();
    this.reconcilerStarted = false;
    this.triggers.close();
  }

  /** Takes spec.agents / spec.providers of an applied desired state. */
  setDesired(spec: Pick<DesiredStateMessage['spec'], 'agents' | 'providers'>): void {
    this.reconciler.setTarget({ agents: spec.agents, providers: spec.providers });
  }

  /** `up/state` current.agents. */
  reportedAgents(): Record<string, ReportedAgent> {
    if (!this.started) return {};
    return reportedAgents({
      installed: this.reconciler.installedAgents(),
      runtime: this.supervisor.status(),
      pending: this.reconciler.pending(),
      failures: this.reconciler.failures(),
      providerProblem: (id) => this.directory.problem(id),
      hasProvider: (id) => this.directory.has(id),
    });
  }

  /** `up/state` current.webhook: where agents with a webhook trigger take runs; null when it is off or down. */
  reportedWebhook(): { url: string } | null {
    const url = this.webhook?.url;
    return url === undefined ? null : { url };
  }

  /** Health of the reconciler: how long an apply cycle has been stuck (0 when it is not). */
  reconcileStuckForMs(): number {
    return this.reconciler.stuckFor();
  }

  reconcileHealthy(): boolean {
    return this.reconciler.isHealthy();
  }

  /** Reconcile steps not yet applied (0 once the box runs what the desired state asks for). */
  reconcilePendingSteps(): number {
    return this.reconciler.pending().length;
  }

  /** Runs in progress right now (an update waits for them before restarting the box). */
  activeRunCount(): number {
    return this.supervisor.activeRuns().length;
  }

  /** An installed agent (for the `agent.run` command). */
  findAgent(agentId: string): InstalledAgent | undefined {
    return this.started ? this.triggers.findAgent(agentId) : undefined;
  }

  /** Deletes a conversation's turns and summary from agents.db: deleted in the cloud. */
  forgetConversation(conversationId: string): boolean {
    return this.stores.conversations.forget(conversationId);
  }

  fire(
    agentId: string,
    trigger: RunTrigger,
    input: string | undefined,
    conversationId?: string,
  ): TriggerOutcome {
    return this.triggers.fire(agentId, trigger, input, conversationId);
  }

  private async startWebhook(): Promise<void> {
    const webhook = this.webhook;
    if (!webhook) return;
    try {
      await webhook.start();
      this.logger.log('agent webhook listening', { address: `127.0.0.1:${webhook.port}` });
    } catch (error) {
      // The agents run without it; the operator sees why.
      this.logger.warn('the agent webhook could not listen', {
        port: this.config.webhookPort,
        err: (error as Error).message,
      });
    }
  }
}
