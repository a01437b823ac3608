import { Logger, type Provider } from '@nestjs/common';
import { BoxConfig } from '../../../config/box-config.js';
import { OutboxService } from '../../outbox/outbox.service.js';
import { SequenceService } from '../../sequence/sequence.service.js';
import type { AgentsLogger } from '../agents.contracts.js';
import { BudgetLedger } from '../gateway/budget-ledger.js';
import { ModelGateway } from '../gateway/model-gateway.js';
import { BoxProviderDirectory } from '../providers/provider-directory.js';
import { AgentReconciler } from '../reconciler/agent-reconciler.js';
import { RunRecovery } from '../recovery/run-recovery.js';
import { AgentUsageMetrics } from '../reporting/agent-usage-metrics.js';
import { ReportJournal } from '../reporting/report-journal.js';
import { SpoolRunReporter } from '../reporting/spool-run-reporter.js';
import { UsageTelemetry } from '../reporting/usage-telemetry.js';
import { BoxSecretsKeyService } from '../secrets/box-secrets-key.service.js';
import { openAgentStores, type AgentStores } from '../store/agent-stores.js';
import { RunRetention } from '../store/run-retention.js';
import { AgentSupervisor } from '../supervisor/agent-supervisor.js';
import { ToolHost } from '../tools/tool-host.js';
import { AgentSchedules } from '../triggers/agent-schedules.js';
import { RunTriggers } from '../triggers/run-triggers.js';
import { WebhookServer } from '../triggers/webhook-server.js';

/** agents.db and its repositories (AgentStores), opened when the runtime module is loaded. */
export const AGENT_STORES = Symbol('AGENT_STORES');
/** The loopback webhook trigger, or null when AGENTBOX_WEBHOOK_PORT is 0. */
export const AGENT_WEBHOOK = Symbol('AGENT_WEBHOOK');
export const AGENTS_LOGGER = Symbol('AGENTS_LOGGER');

function agentsLogger(): AgentsLogger {
  const logger = new Logger('Agents');
  return {
    log: (message, fields) => logger.log(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
  };
}

/**
 * The parts of the agent runtime, each a plain class built here from the others. They are created
 * when AgentsService loads the runtime module at start, since agents.db opens then and not before.
 */
export const AGENTS_RUNTIME_PROVIDERS: Provider[] = [
  { provide: AGENTS_LOGGER, useFactory: agentsLogger },
  {
    provide: AGENT_STORES,
    useFactory: (config: BoxConfig): AgentStores => openAgentStores(config.stateDir),
    inject: [BoxConfig],
  },
  { provide: BoxProviderDirectory, useFactory: () => new BoxProviderDirectory() },
  { provide: AgentUsageMetrics, useFactory: () => new AgentUsageMetrics() },
  {
    provide: ReportJournal,
    useFactory: (stores: AgentStores) => new ReportJournal(stores.db),
    inject: [AGENT_STORES],
  },
  {
    provide: SpoolRunReporter,
    useFactory: (outbox: OutboxService, seq: SequenceService, journal: ReportJournal, logger: AgentsLogger) =>
      new SpoolRunReporter(outbox, logger, { nextSeq: () => seq.next(), journal }),
    inject: [OutboxService, SequenceService, ReportJournal, AGENTS_LOGGER],
  },
  {
    provide: UsageTelemetry,
    useFactory: (
      stores: AgentStores,
      reporter: SpoolRunReporter,
      metrics: AgentUsageMetrics,
      outbox: OutboxService,
      seq: SequenceService,
      logger: AgentsLogger,
    ) =>
      new UsageTelemetry({
        store: { record: (usage) => stores.usage.record(usage), isOpen: () => stores.db.open },
        reporter,
        metrics,
        outbox,
        nextSeq: () => seq.next(),
        logger,
      }),
    inject: [
      AGENT_STORES,
      SpoolRunReporter,
      AgentUsageMetrics,
      OutboxService,
      SequenceService,
      AGENTS_LOGGER,
    ],
  },
  {
    provide: BudgetLedger,
    useFactory: (stores: AgentStores) => new BudgetLedger(stores.db),
    inject: [AGENT_STORES],
  },
  {
    provide: ModelGateway,
    useFactory: (
      directory: BoxProviderDirectory,
      ledger: BudgetLedger,
      usage: UsageTelemetry,
      logger: AgentsLogger,
    ) =>
      new ModelGateway({
        providers: directory,
        ledger,
        onUsage: (record) => usage.record(record),
        logger: { warn: (message) => logger.warn(message) },
      }),
    inject: [BoxProviderDirectory, BudgetLedger, UsageTelemetry, AGENTS_LOGGER],
  },
  {
    provide: ToolHost,
    useFactory: (config: BoxConfig, stores: AgentStores, outbox: OutboxService) =>
      new ToolHost({
        stateDir: config.stateDir,
        memory: stores.memory,
        publish: (agentId, payload, context) =>
          outbox.event({
            type: 'agent.publish',
            level: 'info',
            message: `agent ${agentId} published a result`,
            data: { agentId, runId: context.runId, payload },
          }),
        notify: (agentId, notification, context) =>
          outbox.event({
            type: 'agent.notify',
            level: notification.level === 'warning' ? 'warn' : notification.level,
            message: (notification.title
              ? `${notification.title}: ${notification.message}`
              : notification.message
            ).slice(0, 2_000),
            data: { agentId, runId: context.runId },
          }),
      }),
    inject: [BoxConfig, AGENT_STORES, OutboxService],
  },
  {
    provide: AgentSupervisor,
    useFactory: (
      stores: AgentStores,
      gateway: ModelGateway,
      tools: ToolHost,
      reporter: SpoolRunReporter,
      logger: AgentsLogger,
    ) =>
      new AgentSupervisor({
        store: { runs: stores.runs, usage: stores.usage, conversations: stores.conversations },
        gateway,
        tools,
        reporter,
        logger: { warn: (message) => logger.warn(message) },
      }),
    inject: [AGENT_STORES, ModelGateway, ToolHost, SpoolRunReporter, AGENTS_LOGGER],
  },
  {
    provide: RunRecovery,
    useFactory: (
      stores: AgentStores,
      journal: ReportJournal,
      reporter: SpoolRunReporter,
      supervisor: AgentSupervisor,
      logger: AgentsLogger,
    ) =>
      new RunRecovery({
        journal,
        runs: stores.runs,
        reporter,
        interruptLeftRuns: () => supervisor.recoverAtStart(),
        logger,
      }),
    inject: [AGENT_STORES, ReportJournal, SpoolRunReporter, AgentSupervisor, AGENTS_LOGGER],
  },
  {
    provide: AgentReconciler,
    useFactory: (
      supervisor: AgentSupervisor,
      stores: AgentStores,
      directory: BoxProviderDirectory,
      secretsKey: BoxSecretsKeyService,
      logger: AgentsLogger,
    ) =>
      new AgentReconciler(
        supervisor,
        stores.installed,
        directory,
        (sealed) => secretsKey.openSealedSecret(sealed),
        logger,
      ),
    inject: [AgentSupervisor, AGENT_STORES, BoxProviderDirectory, BoxSecretsKeyService, AGENTS_LOGGER],
  },
  {
    provide: RunTriggers,
    useFactory: (supervisor: AgentSupervisor, reconciler: AgentReconciler) =>
      new RunTriggers(supervisor, reconciler),
    inject: [AgentSupervisor, AgentReconciler],
  },
  {
    provide: AgentSchedules,
    useFactory: (triggers: RunTriggers, logger: AgentsLogger) =>
      new AgentSchedules((agentId, trigger, input) => triggers.fire(agentId, trigger, input), logger),
    inject: [RunTriggers, AGENTS_LOGGER],
  },
  {
    provide: AGENT_WEBHOOK,
    useFactory: (config: BoxConfig, triggers: RunTriggers, logger: AgentsLogger): WebhookServer | null =>
      config.webhookPort > 0
        ? new WebhookServer({
            port: config.webhookPort,
            fallbackToFreePort: !config.webhookPortExplicit,
            findAgent: (agentId) => triggers.findAgent(agentId),
            fire: (agentId, trigger, input) => triggers.fire(agentId, trigger, input),
            logger,
          })
        : null,
    inject: [BoxConfig, RunTriggers, AGENTS_LOGGER],
  },
  {
    provide: RunRetention,
    useFactory: (config: BoxConfig, stores: AgentStores, logger: AgentsLogger) =>
      new RunRetention({
        runs: stores.runs,
        usage: stores.usage,
        conversations: stores.conversations,
        policy: { maxAgeDays: config.runRetentionDays, maxBytes: config.runRetentionBytes },
        logger,
      }),
    inject: [BoxConfig, AGENT_STORES, AGENTS_LOGGER],
  },
];
