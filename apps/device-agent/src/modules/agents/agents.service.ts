import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { BoxConfig } from '../../config/box-config.js';
import { CommandsService } from '../commands/commands.service.js';
import { DesiredStateService } from '../desired-state/desired-state.service.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { SequenceService } from '../sequence/sequence.service.js';
import { AgentsRuntime } from './agents-runtime.js';
import { BoxSecretsKeyService } from './secrets/box-secrets-key.service.js';
import { AGENT_RUN_COMMAND } from './triggers/agent-run-command.js';

/** At most one `up/state` for agent changes per this many ms (a burst of run starts and ends is one report). */
export const AGENT_STATE_REPORT_MIN_MS = 1_000;

/**
 * The agent runtime inside the device agent: takes `spec.agents` / `spec.providers` from the desired
 * state, adds `current.agents` to `up/state` (sent again when it changed, at most once a second),
 * answers the `agent.run` command.
 */
@Injectable()
export class AgentsService implements OnModuleInit {
  private readonly logger = new Logger('Agents');
  readonly runtime: AgentsRuntime;
  private lastReported: string | undefined;
  private lastReportAt = 0;
  private reportTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    config: BoxConfig,
    outbox: OutboxService,
    seq: SequenceService,
    secretsKey: BoxSecretsKeyService,
    private readonly desired: DesiredStateService,
    private readonly commands: CommandsService,
  ) {
    this.runtime = new AgentsRuntime({
      stateDir: config.stateDir,
      webhookPort: config.webhookPort,
      retention: { maxAgeDays: config.runRetentionDays, maxBytes: config.runRetentionBytes },
      outbox,
      nextSeq: () => seq.next(),
      openSecret: (sealed) => secretsKey.openSealedSecret(sealed),
      logger: {
        log: (message, fields) => this.logger.log(fields ?? {}, message),
        warn: (message, fields) => this.logger.warn(fields ?? {}, message),
      },
      onStateChange: () => this.stateChanged(),
    });
  }

  onModuleInit(): void {
    this.desired.onApplied((document) => this.runtime.setDesired(document.spec));
    this.desired.addCurrentSection('agents', () => {
      const agents = this.runtime.reportedAgents();
      this.lastReported = JSON.stringify(agents);
      return agents;
    });
    // The reconciler's health check, for the console and for operators: a cycle stuck for minutes fails it.
    this.desired.addCurrentSection('agentsReconcile', () => ({
      healthy: this.runtime.reconcileHealthy(),
      stuckForMs: this.runtime.reconcileStuckForMs(),
    }));
    this.commands.register(AGENT_RUN_COMMAND, (command) => this.runtime.runCommand(command));
  }

  /** Opens agents.db, recovers interrupted runs and starts the installed agents (before the box is online). */
  async start(): Promise<void> {
    await this.runtime.start();
  }

  /** Health check: false while a reconcile cycle has been stuck (failing or hanging) for more than 5 minutes. */
  isHealthy(): boolean {
    return this.runtime.reconcileHealthy();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reportTimer);
    await this.runtime.stop();
  }

  /** Reports only when the agents' state differs from the last report, and not more often than once a second. */
  private stateChanged(): void {
    if (this.stopped || this.reportTimer) return;
    const wait = Math.max(0, this.lastReportAt + AGENT_STATE_REPORT_MIN_MS - Date.now());
    this.reportTimer = setTimeout(() => {
      this.reportTimer = undefined;
      if (this.stopped || !this.runtime.started) return;
      if (JSON.stringify(this.runtime.reportedAgents()) === this.lastReported) return;
      this.lastReportAt = Date.now();
      this.desired
        .report()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'agent state report failed'));
    }, wait);
  }
}
