import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import {
  DesiredAgentSchema,
  type AgentDefinitionInput,
  type RunEvent,
  type RunRecord,
  type UsageRecord,
} from '@agentbox/schemas';
import {
  startOpenAiTestServer,
  waitFor,
  type OpenAiTestResponder,
  type OpenAiTestServer,
  type RecordedRequest,
} from '@agentbox/test-support';
import type { InstalledAgent, RunReporter } from '../../src/modules/agents/agents.contracts.js';
import { BudgetLedger } from '../../src/modules/agents/gateway/budget-ledger.js';
import { ModelGateway } from '../../src/modules/agents/gateway/model-gateway.js';
import { BoxProviderDirectory } from '../../src/modules/agents/providers/provider-directory.js';
import { openAgentStores, type AgentStores } from '../../src/modules/agents/store/agent-stores.js';
import { AgentSupervisor } from '../../src/modules/agents/supervisor/agent-supervisor.js';
import { ToolHost } from '../../src/modules/agents/tools/tool-host.js';

export class CollectingReporter implements RunReporter {
  runs: RunRecord[] = [];
  events: RunEvent[] = [];
  usages: UsageRecord[] = [];
  run(record: RunRecord): void {
    this.runs.push(structuredClone(record));
  }
  event(event: RunEvent): void {
    this.events.push(event);
  }
  usage(record: UsageRecord): void {
    this.usages.push(record);
  }
  eventsOf(runId: string): RunEvent[] {
    return this.events.filter((event) => event.runId === runId);
  }
}

export function agent(id: string, definition: Partial<AgentDefinitionInput> = {}): InstalledAgent {
  return DesiredAgentSchema.parse({
    id,
    version: 1,
    definition: {
      name: id,
      // The test server's responder tells agents apart by their instructions.
      instructions: `You are ${id}.`,
      model: { provider: 'local', model: 'test-model' },
      ...definition,
    },
  });
}

/** Which agent a model request belongs to (from the system prompt). */
export function agentOf(request: RecordedRequest): string | undefined {
  const system = request.body?.messages?.find((m) => m.role === 'system');
  const text = typeof system?.content === 'string' ? system.content : '';
  return /You are ([a-z0-9-]+)\./.exec(text)?.[1];
}

/**
 * An AgentSupervisor with real parts around it, fresh for every test: agents.db in a temp dir, the
 * OpenAI-compatible test server as the only provider (`behaviours` says how it answers each agent),
 * the real model gateway and tool host, and a reporter that collects what the supervisor reports.
 */
export class SupervisorHarness {
  dir!: string;
  stores!: AgentStores;
  server!: OpenAiTestServer;
  reporter!: CollectingReporter;
  sut!: AgentSupervisor;
  /** Per agent: how the model answers its requests. */
  behaviours!: Map<string, OpenAiTestResponder>;

  async setUp(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), 'agent-supervisor-'));
    this.stores = openAgentStores(join(this.dir, 'state'));
    this.server = await startOpenAiTestServer();
    this.behaviours = new Map();
    this.server.setResponder((request) => this.behaviours.get(agentOf(request) ?? '')?.(request));
    this.reporter = new CollectingReporter();
    this.sut = this.createSupervisor();
  }

  async tearDown(): Promise<void> {
    await this.sut.stop();
    await this.server.close();
    this.stores.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  createSupervisor(): AgentSupervisor {
    const providers = new BoxProviderDirectory();
    providers.set({ id: 'local', version: 1, baseUrl: this.server.url }, () => '');
    const gateway = new ModelGateway({
      providers,
      ledger: new BudgetLedger(this.stores.db),
      onUsage: (record) => {
        this.stores.usage.record(record);
        this.reporter.usage(record);
      },
      retry: { maxRetries: 0 },
    });
    const tools = new ToolHost({
      stateDir: join(this.dir, 'state'),
      memory: this.stores.memory,
      publish: () => undefined,
      notify: () => undefined,
    });
    return new AgentSupervisor({
      store: this.stores,
      gateway,
      tools,
      reporter: this.reporter,
      restartBackoff: { baseMs: 100, capMs: 400 },
      memoryPollMs: 100,
    });
  }

  /** A supervisor whose runs fork `workerPath` instead of the run worker (a gateway that is never called). */
  supervisorWithWorker(workerPath: string, memoryPollMs?: number): AgentSupervisor {
    return new AgentSupervisor({
      store: this.stores,
      gateway: { call: () => Promise.reject(new Error('never called')) },
      tools: new ToolHost({
        stateDir: this.dir,
        memory: this.stores.memory,
        publish: () => undefined,
        notify: () => undefined,
      }),
      reporter: this.reporter,
      workerPath,
      ...(memoryPollMs !== undefined ? { memoryPollMs } : {}),
    });
  }

  finished = (runId: string, timeoutMs = 20_000) =>
    waitFor(
      `run ${runId} to end`,
      () => {
        const record = this.stores.runs.get(runId);
        return record && !['queued', 'running'].includes(record.status) ? record : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );

  accepted = (outcome: ReturnType<AgentSupervisor['trigger']>): string => {
    if (!outcome.accepted) throw new Error(`trigger rejected: ${outcome.reason}`);
    return outcome.runId;
  };

  inFlight = (agentId: string) =>
    waitFor(
      `a model request of ${agentId}`,
      () => this.server.completionRequests.find((r) => agentOf(r) === agentId),
      {
        intervalMs: 20,
      },
    );

  pidOf = (agentId: string): number => {
    const pid = this.sut.activeRuns().find((run) => run.agentId === agentId)?.pid;
    if (pid === undefined) throw new Error(`${agentId} has no run process`);
    return pid;
  };
}

/** A harness set up before and torn down after every test of the calling describe block. */
export function useSupervisorHarness(): SupervisorHarness {
  const harness = new SupervisorHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());
  return harness;
}
