import type { InstalledAgent, RunTrigger, TriggerOutcome } from '../agents.contracts.js';
import type { AgentReconciler } from '../reconciler/agent-reconciler.js';
import type { AgentSupervisor } from '../supervisor/agent-supervisor.js';

/**
 * Where the runtime's triggers (schedules, the webhook) ask for a run: the installed
 * agents as the reconciler holds them, runs through the supervisor while the runtime is open.
 */
export class RunTriggers {
  private open = false;

  constructor(
    private readonly supervisor: Pick<AgentSupervisor, 'trigger'>,
    private readonly reconciler: Pick<AgentReconciler, 'installedAgents'>,
  ) {}

  /** Runs are taken from now on (the runtime starts). */
  accept(): void {
    this.open = true;
  }

  /** No run is taken any more (the runtime stopped). */
  close(): void {
    this.open = false;
  }

  findAgent(agentId: string): InstalledAgent | undefined {
    return this.reconciler.installedAgents().find((agent) => agent.id === agentId);
  }

  fire(
    agentId: string,
    trigger: RunTrigger,
    input: string | undefined,
    conversationId?: string,
  ): TriggerOutcome {
    if (!this.open) return { accepted: false, reason: 'the agent runtime is not running' };
    return this.supervisor.trigger(agentId, trigger, input, conversationId);
  }
}
