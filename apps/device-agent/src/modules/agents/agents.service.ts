import {
  CONVERSATION_FORGET_COMMAND,
  forgetConversationCommand,
} from './triggers/conversation-forget-command.js';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { LazyModuleLoader } from '@nestjs/core';
import { CommandsService } from '../commands/commands.service.js';
import { DesiredStateService, type DesiredSpec } from '../desired-state/desired-state.service.js';
import { AgentsRuntime } from './runtime/agents-runtime.js';
import { AgentsRuntimeModule } from './runtime/agents-runtime.module.js';
import { AGENT_RUN_COMMAND, runAgentCommand } from './triggers/agent-run-command.js';

type AgentsTarget = Pick<DesiredSpec, 'agents' | 'providers'>;

/** At most one `up/state` for agent changes per this many ms (a burst of run starts and ends is one report). */
export const AGENT_STATE_REPORT_MIN_MS = 1_000;

/**
 * The agents on the box, as the rest of the box sees them: takes `spec.agents` / `spec.providers`
 * from the desired state, adds `current.agents` to `up/state` (sent again when it changed, at most
 * once a second), answers the `agent.run` command, and starts and stops the agent runtime
 * (runtime/agents-runtime.module.ts), which it builds only at start.
 */
@Injectable()
export class AgentsService implements OnModuleInit {
  private readonly logger = new Logger('Agents');
  private runtime: AgentsRuntime | undefined;
  private pendingTarget: AgentsTarget | undefined;
  private lastReported: string | undefined;
  private lastReportAt = 0;
  private reportTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly lazyModules: LazyModuleLoader,
    private readonly desired: DesiredStateService,
    private readonly commands: CommandsService,
  ) {}

  onModuleInit(): void {
    this.desired.onSection(['agents', 'providers'], (target) => this.setDesired(target));
    this.desired.addCurrentSection('agents', () => {
      const agents = this.runtime?.reportedAgents() ?? {};
      this.lastReported = JSON.stringify(agents);
      return agents;
    });
    // The port may not be the configured one (a second box on the same machine takes a free one).
    this.desired.addCurrentSection('webhook', () => this.runtime?.reportedWebhook() ?? null);
    // The reconciler's health check, for the console and for operators: a cycle stuck for minutes fails it.
    this.desired.addCurrentSection('agentsReconcile', () => ({
      healthy: this.isHealthy(),
      stuckForMs: this.runtime?.reconcileStuckForMs() ?? 0,
    }));
    this.commands.register(AGENT_RUN_COMMAND, (command) =>
      runAgentCommand(
        command,
        (agentId) => this.runtime?.findAgent(agentId),
        (agentId, trigger, input, conversationId) =>
          this.runtime?.fire(agentId, trigger, input, conversationId) ?? {
            accepted: false,
            reason: 'the agent runtime is not running',
          },
      ),
    );
    this.commands.register(CONVERSATION_FORGET_COMMAND, (command) =>
      forgetConversationCommand(
        command,
        this.runtime ? (conversationId) => this.runtime!.forgetConversation(conversationId) : undefined,
      ),
    );
  }

  /**
   * Builds the runtime (opening agents.db), recovers what the previous process left and starts the
   * installed agents, before the box is online; a desired state taken before goes to it then.
   */
  async start(): Promise<void> {
    const moduleRef = await this.lazyModules.load(() => AgentsRuntimeModule, { logger: false });
    const runtime = moduleRef.get(AgentsRuntime);
    this.runtime = runtime;
    await runtime.start(() => this.stateChanged());
    if (this.pendingTarget) this.setDesired(this.pendingTarget);
    this.stateChanged();
  }

  /** The reconciler runs the installed agents. */
  get started(): boolean {
    return this.runtime?.started ?? false;
  }

  /** Health check: false while a reconcile cycle has been stuck (failing or hanging) for more than 5 minutes. */
  isHealthy(): boolean {
    return this.runtime?.reconcileHealthy() ?? true;
  }

  /** Reconcile steps not yet applied (0 once the box runs what the desired state asks for). */
  reconcilePendingSteps(): number {
    return this.runtime?.reconcilePendingSteps() ?? 0;
  }

  /** Runs in progress right now (an update waits for them before restarting the box). */
  activeRunCount(): number {
    return this.runtime?.activeRunCount() ?? 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reportTimer);
    const runtime = this.runtime;
    if (!runtime) return;
    await runtime.stop();
    this.runtime = undefined;
  }

  private setDesired(spec: AgentsTarget): void {
    if (!this.runtime?.started) {
      this.pendingTarget = spec;
      return;
    }
    this.pendingTarget = undefined;
    this.runtime.setDesired(spec);
  }

  /** Reports only when the agents' state differs from the last report, and not more often than once a second. */
  private stateChanged(): void {
    if (this.stopped || this.reportTimer) return;
    const wait = Math.max(0, this.lastReportAt + AGENT_STATE_REPORT_MIN_MS - Date.now());
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      if (this.stopped || !this.started) return;
      if (JSON.stringify(this.runtime?.reportedAgents() ?? {}) === this.lastReported) return;
      this.lastReportAt = Date.now();
      this.desired
        .report()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'agent state report failed'));
    }, wait);
  }
}
