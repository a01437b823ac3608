import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DesiredAgentSchema,
  type RunEvent,
  type RunRecord,
  type UsageRecord,
  type AgentDefinitionInput,
} from '@agentbox/schemas';
import {
  startOpenAiTestServer,
  toolLoopResponder,
  waitFor,
  type OpenAiTestResponder,
  type OpenAiTestServer,
  type RecordedRequest,
} from '@agentbox/test-support';
import type { InstalledAgent, RunReporter } from '../agents.contracts.js';
import { BudgetLedger } from '../gateway/budget-ledger.js';
import { ModelGateway } from '../gateway/model-gateway.js';
import { BoxProviderDirectory } from '../providers/provider-directory.js';
import { openAgentStores, type AgentStores } from '../store/agent-stores.js';
import { ToolHost } from '../tools/tool-host.js';
import { AgentSupervisor, RECOVERED_REASON, STOPPING_REASON } from './agent-supervisor.js';

class CollectingReporter implements RunReporter {
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

function agent(id: string, definition: Partial<AgentDefinitionInput> = {}): InstalledAgent {
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
function agentOf(request: RecordedRequest): string | undefined {
  const system = request.body?.messages?.find((m) => m.role === 'system');
  const text = typeof system?.content === 'string' ? system.content : '';
  return /You are ([a-z0-9-]+)\./.exec(text)?.[1];
}

describe('AgentSupervisor', () => {
  let dir: string;
  let stores: AgentStores;
  let server: OpenAiTestServer;
  let reporter: CollectingReporter;
  let sut: AgentSupervisor;
  /** Per agent: how the model answers its requests. */
  let behaviours: Map<string, OpenAiTestResponder>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-supervisor-'));
    stores = openAgentStores(join(dir, 'state'));
    server = await startOpenAiTestServer();
    behaviours = new Map();
    server.setResponder((request) => behaviours.get(agentOf(request) ?? '')?.(request));
    reporter = new CollectingReporter();
    sut = createSupervisor();
  });

  afterEach(async () => {
    await sut.stop();
    await server.close();
    stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function createSupervisor(): AgentSupervisor {
    const providers = new BoxProviderDirectory();
    providers.set({ id: 'local', version: 1, baseUrl: server.url }, () => '');
    const gateway = new ModelGateway({
      providers,
      ledger: new BudgetLedger(stores.db),
      onUsage: (record) => {
        stores.usage.record(record);
        reporter.usage(record);
      },
      retry: { maxRetries: 0 },
    });
    const tools = new ToolHost({
      stateDir: join(dir, 'state'),
      memory: stores.memory,
      publish: () => undefined,
      notify: () => undefined,
    });
    return new AgentSupervisor({
      store: stores,
      gateway,
      tools,
      reporter,
      restartBackoff: { baseMs: 100, capMs: 400 },
      memoryPollMs: 100,
    });
  }

  const finished = (runId: string, timeoutMs = 20_000) =>
    waitFor(
      `run ${runId} to end`,
      () => {
        const record = stores.runs.get(runId);
        return record && !['queued', 'running'].includes(record.status) ? record : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );

  function accepted(outcome: ReturnType<AgentSupervisor['trigger']>): string {
    if (!outcome.accepted) throw new Error(`trigger rejected: ${outcome.reason}`);
    return outcome.runId;
  }

  const inFlight = (agentId: string) =>
    waitFor(
      `a model request of ${agentId}`,
      () => server.completionRequests.find((r) => agentOf(r) === agentId),
      {
        intervalMs: 20,
      },
    );

  function pidOf(agentId: string): number {
    const pid = sut.activeRuns().find((run) => run.agentId === agentId)?.pid;
    if (pid === undefined) throw new Error(`${agentId} has no run process`);
    return pid;
  }

  it('runs an agent that calls a tool and answers: events in order, usage recorded, no process left', async () => {
    sut.upsert(agent('keeper', { tools: [{ tool: 'memory' }] }));
    behaviours.set(
      'keeper',
      toolLoopResponder({
        toolName: 'memory',
        args: { op: 'set', key: 'mood', value: 'good' },
        answer: 'Noted.',
      }),
    );

    const runId = accepted(sut.trigger('keeper', { type: 'message', detail: 'cmd-1' }, 'remember my mood'));
    const record = await finished(runId);

    expect(record).toMatchObject({
      status: 'succeeded',
      output: 'Noted.',
      input: 'remember my mood',
      steps: 2,
      trigger: { type: 'message', detail: 'cmd-1' },
    });
    expect(stores.memory.get('keeper', 'mood')).toBe('good');
    const events = stores.runs.events(runId);
    expect(events.map((e) => [e.index, e.type, e.name])).toEqual([
      [0, 'status', 'running'],
      [1, 'model', 'test-model'],
      [2, 'tool-call', 'memory'],
      [3, 'tool-result', 'memory'],
      [4, 'model', 'test-model'],
      [5, 'text', undefined],
      [6, 'status', 'succeeded'],
    ]);
    expect(events[2]!.data).toEqual({ op: 'set', key: 'mood', value: 'good' });
    expect(events[3]!.data).toEqual({ key: 'mood', stored: true });
    expect(events[5]!.data).toBe('Noted.');
    expect(events[1]!.inputTokens).toBeGreaterThan(0);
    expect(reporter.eventsOf(runId)).toEqual(events);

    const usage = stores.usage.list({ agentId: 'keeper' });
    expect(usage).toHaveLength(2);
    expect(usage.every((u) => u.runId === runId)).toBe(true);
    expect(record.usage).toEqual({
      inputTokens: usage[0]!.inputTokens + usage[1]!.inputTokens,
      outputTokens: usage[0]!.outputTokens + usage[1]!.outputTokens,
    });
    expect(sut.status().keeper).toMatchObject({
      status: 'idle',
      lastRunStatus: 'succeeded',
      tokensToday: record.usage.inputTokens + record.usage.outputTokens,
      queued: 0,
    });
    // Reported when it started and when it ended.
    expect(reporter.runs.filter((r) => r.id === runId).map((r) => r.status)).toEqual([
      'running',
      'succeeded',
    ]);
    expect(sut.activeRuns()).toEqual([]);
  });

  it('returns a refused http.fetch to the model as an error, records it, and the run goes on', async () => {
    sut.upsert(agent('fetcher', { tools: [{ tool: 'http.fetch', allowHosts: ['*.example.com'] }] }));
    behaviours.set(
      'fetcher',
      toolLoopResponder({
        toolName: 'http_fetch',
        args: { url: `http://127.0.0.1:${server.port}/v1/models` },
        answer: 'Could not fetch.',
      }),
    );

    const runId = accepted(sut.trigger('fetcher', { type: 'webhook' }, 'fetch it'));
    const record = await finished(runId);

    expect(record.status).toBe('succeeded');
    const result = stores.runs.events(runId).find((e) => e.type === 'tool-result');
    expect(result).toMatchObject({
      name: 'http.fetch',
      error: `127.0.0.1:${server.port} is not an allowed host (allowed: *.example.com)`,
    });
    // The refusal reached the model as the tool's result.
    const second = server.completionRequests.filter((r) => agentOf(r) === 'fetcher')[1];
    const toolMessage = second?.body?.messages?.find((m) => m.role === 'tool');
    expect(JSON.stringify(toolMessage?.content)).toContain('is not an allowed host');
    expect(server.requests.filter((r) => r.path === '/v1/models')).toEqual([]);
  });

  it('kill -9 of one run: that run is interrupted, another agent is unaffected, the agent runs again', async () => {
    sut.upsert(agent('victim'));
    sut.upsert(agent('bystander'));
    behaviours.set('victim', () => ({ kind: 'text', text: 'victim answer', delayMs: 1_500 }));
    behaviours.set('bystander', () => ({ kind: 'text', text: 'bystander answer', delayMs: 1_000 }));

    const victimRun = accepted(sut.trigger('victim', { type: 'message' }, 'go'));
    const bystanderRun = accepted(sut.trigger('bystander', { type: 'message' }, 'go'));
    await inFlight('victim');
    process.kill(pidOf('victim'), 'SIGKILL');

    expect(await finished(victimRun)).toMatchObject({
      status: 'interrupted',
      error: 'the run process ended unexpectedly (killed by SIGKILL)',
    });
    expect(await finished(bystanderRun)).toMatchObject({ status: 'succeeded', output: 'bystander answer' });
    expect(sut.status().victim).toMatchObject({ status: 'idle', lastRunStatus: 'interrupted' });

    const again = sut.trigger('victim', { type: 'message' }, 'again');
    expect(await finished(accepted(again))).toMatchObject({ status: 'succeeded', output: 'victim answer' });
  });

  it('marks an agent crash-looping after 3 crashes in a row, until a run succeeds', async () => {
    sut.upsert(agent('fragile'));
    behaviours.set('fragile', () => ({ kind: 'text', text: 'fine', delayMs: 2_000 }));
    const statuses: string[] = [];
    sut.onChange((status) => statuses.push(status.fragile?.status ?? 'none'));

    for (let crash = 1; crash <= 3; crash++) {
      const before = server.completionRequests.length;
      const runId = accepted(sut.trigger('fragile', { type: 'interval' }));
      await waitFor('the model request', () => server.completionRequests.length > before, { intervalMs: 20 });
      process.kill(pidOf('fragile'), 'SIGKILL');
      expect((await finished(runId)).status).toBe('interrupted');
      expect(sut.status().fragile?.status).toBe(crash < 3 ? 'idle' : 'crash-looping');
    }
    expect(sut.status().fragile?.detail).toContain('killed by SIGKILL');

    behaviours.set('fragile', () => ({ kind: 'text', text: 'fine' }));
    const runId = accepted(sut.trigger('fragile', { type: 'interval' }));
    expect((await finished(runId)).status).toBe('succeeded');
    expect(sut.status().fragile?.status).toBe('idle');
    expect(statuses).toContain('crash-looping');
  });

  it('holds the next run back for the restart backoff after a crash', async () => {
    sut.upsert(agent('restarts'));
    behaviours.set('restarts', () => ({ kind: 'text', text: 'fine', delayMs: 1_000 }));
    const crashed = accepted(sut.trigger('restarts', { type: 'interval' }));
    await inFlight('restarts');
    process.kill(pidOf('restarts'), 'SIGKILL');
    const crashedAt = (await finished(crashed)).endedAt!;

    behaviours.set('restarts', () => ({ kind: 'text', text: 'fine' }));
    const outcome = sut.trigger('restarts', { type: 'interval' });
    expect(outcome).toMatchObject({ accepted: true, queued: true });
    const next = await finished(accepted(outcome));
    expect(next.status).toBe('succeeded');
    expect(next.startedAt! - crashedAt).toBeGreaterThanOrEqual(100);
  });

  it('kills a run that exceeds its time limit and marks it timed out', async () => {
    sut.upsert(agent('slowpoke', { limits: { runTimeoutSec: 1 } }));
    behaviours.set('slowpoke', () => ({ kind: 'text', text: 'too late', delayMs: 10_000 }));

    const runId = accepted(sut.trigger('slowpoke', { type: 'message' }));
    const pid = pidOf('slowpoke');
    const record = await finished(runId, 5_000);

    expect(record).toMatchObject({
      status: 'timed-out',
      error: 'the run took longer than its limit of 1 s and was stopped',
    });
    expect(record.endedAt! - record.startedAt!).toBeLessThan(2_500);
    await waitFor('the run process to be gone', () => !isAlive(pid), { timeoutMs: 3_000 });
  });

  it('kills a run process over its memory limit, with the reason', async () => {
    // A Node.js process alone takes more than 32 MB resident, so the watch catches it as soon as it runs.
    sut.upsert(agent('hungry', { limits: { memoryMb: 32 } }));
    behaviours.set('hungry', () => ({ kind: 'text', text: 'fine', delayMs: 5_000 }));

    const runId = accepted(sut.trigger('hungry', { type: 'message' }));
    const record = await finished(runId);

    expect(record.status).toBe('failed');
    expect(record.error).toMatch(
      /^the run process used \d+ MB, over its memory limit of 32 MB, and was stopped$/,
    );
    expect(sut.status().hungry?.lastRunStatus).toBe('failed');
  });

  it('detects a run process that ran out of JavaScript heap', async () => {
    const hog = join(dir, 'heap-hog-worker.mjs');
    writeFileSync(hog, 'const hoard = [];\nfor (;;) hoard.push(new Array(100_000).fill(hoard.length));\n');
    await sut.stop();
    sut = new AgentSupervisor({
      store: stores,
      gateway: { call: () => Promise.reject(new Error('never called')) },
      tools: new ToolHost({
        stateDir: dir,
        memory: stores.memory,
        publish: () => undefined,
        notify: () => undefined,
      }),
      reporter,
      workerPath: hog,
      // Only the V8 heap cap (--max-old-space-size) is exercised here.
      memoryPollMs: 600_000,
    });
    sut.upsert(agent('hog', { limits: { memoryMb: 64 } }));

    const record = await finished(accepted(sut.trigger('hog', { type: 'message' })));

    expect(record).toMatchObject({
      status: 'failed',
      error: 'the run process ran out of memory (its limit is 64 MB) and was stopped',
    });
  });

  it('fails a run that uses all its steps without a final answer', async () => {
    sut.upsert(agent('looper', { tools: [{ tool: 'memory' }], limits: { maxSteps: 2 } }));
    behaviours.set('looper', () => ({
      kind: 'tool-calls',
      calls: [{ name: 'memory', arguments: { op: 'list' } }],
    }));

    const record = await finished(accepted(sut.trigger('looper', { type: 'message' })));

    expect(record).toMatchObject({
      status: 'failed',
      steps: 2,
      error: 'the run used all of its 2 steps without a final answer',
    });
    expect(server.completionRequests.filter((r) => agentOf(r) === 'looper')).toHaveLength(2);
  });

  describe('a trigger while the agent is busy', () => {
    it('reject: refused with the reason, recorded as a rejected run', async () => {
      sut.upsert(agent('solo', { concurrency: { onBusy: 'reject' } }));
      behaviours.set('solo', () => ({ kind: 'text', text: 'one', delayMs: 800 }));

      const first = accepted(sut.trigger('solo', { type: 'message' }));
      const second = sut.trigger('solo', { type: 'message' });

      expect(second).toEqual({
        accepted: false,
        reason: `the agent is busy with run ${first} (it is set to reject runs when busy)`,
      });
      expect(stores.runs.list({ agentId: 'solo', status: 'rejected' })).toHaveLength(1);
      expect((await finished(first)).status).toBe('succeeded');
    });

    it('enqueue: runs wait in a bounded queue and run in order', async () => {
      sut.upsert(agent('queued', { concurrency: { onBusy: 'enqueue', queueSize: 2 } }));
      let n = 0;
      behaviours.set('queued', () => ({ kind: 'text', text: `answer ${++n}`, delayMs: 300 }));

      const first = sut.trigger('queued', { type: 'message' }, 'one');
      const second = sut.trigger('queued', { type: 'message' }, 'two');
      const third = sut.trigger('queued', { type: 'message' }, 'three');
      const fourth = sut.trigger('queued', { type: 'message' }, 'four');

      expect([first, second, third].map((o) => o.accepted && o.queued)).toEqual([false, true, true]);
      expect(fourth).toEqual({ accepted: false, reason: "the agent's queue is full (2 runs waiting)" });
      expect(sut.status().queued?.queued).toBe(2);
      const records = await Promise.all([first, second, third].map((o) => finished(accepted(o))));
      expect(records.map((r) => [r.input, r.status, r.output])).toEqual([
        ['one', 'succeeded', 'answer 1'],
        ['two', 'succeeded', 'answer 2'],
        ['three', 'succeeded', 'answer 3'],
      ]);
      expect(records[1]!.startedAt!).toBeGreaterThanOrEqual(records[0]!.endedAt!);
      expect(reporter.runs.filter((r) => r.id === records[1]!.id).map((r) => r.status)).toEqual([
        'queued',
        'running',
        'succeeded',
      ]);
    });

    it('interrupt: the running run is interrupted and the new one runs', async () => {
      sut.upsert(agent('impatient', { concurrency: { onBusy: 'interrupt' } }));
      behaviours.set('impatient', () => ({ kind: 'text', text: 'done', delayMs: 1_000 }));

      const first = accepted(sut.trigger('impatient', { type: 'message' }, 'old'));
      await inFlight('impatient');
      const second = sut.trigger('impatient', { type: 'message' }, 'new');

      expect(second).toMatchObject({ accepted: true, queued: false });
      expect(stores.runs.get(first)).toMatchObject({
        status: 'interrupted',
        error: 'interrupted by a newer run (the agent is set to interrupt when busy)',
      });
      expect(await finished(accepted(second))).toMatchObject({ status: 'succeeded', input: 'new' });
      // An interruption asked for is no crash.
      expect(sut.status().impatient?.status).toBe('idle');
    });

    it('runs up to maxParallel runs of one agent at once, each in its own process', async () => {
      sut.upsert(agent('twins', { concurrency: { maxParallel: 2 } }));
      behaviours.set('twins', () => ({ kind: 'text', text: 'together', delayMs: 1_000 }));

      const outcomes = [
        sut.trigger('twins', { type: 'message' }, 'a'),
        sut.trigger('twins', { type: 'message' }, 'b'),
      ];

      expect(outcomes.map((o) => o.accepted && o.queued)).toEqual([false, false]);
      await waitFor('both model requests', () => server.completionRequests.length === 2, { intervalMs: 20 });
      const active = sut.activeRuns();
      expect(active.map((run) => run.runId).sort()).toEqual(outcomes.map(accepted).sort());
      const pids = active.map((run) => run.pid!);
      expect(new Set(pids).size).toBe(2);
      expect(pids.every(isAlive)).toBe(true);
      expect(sut.status().twins).toMatchObject({ status: 'running', queued: 0 });
      expect(sut.status().twins?.detail).toMatch(/^2 runs: /);

      const [a, b] = await Promise.all(outcomes.map((o) => finished(accepted(o))));
      expect([a!.status, b!.status]).toEqual(['succeeded', 'succeeded']);
      // Each waited a second for the model, so had they run one after the other, one would start after the other ended.
      expect(b!.startedAt!).toBeLessThan(a!.endedAt!);
      expect(a!.startedAt!).toBeLessThan(b!.endedAt!);
      expect(sut.status().twins?.status).toBe('idle');
      await waitFor('both run processes to exit', () => !pids.some(isAlive), { timeoutMs: 5_000 });
    });

    it('reject with maxParallel: the run past the limit is refused while the others go on', async () => {
      sut.upsert(agent('pair', { concurrency: { maxParallel: 2, onBusy: 'reject' } }));
      behaviours.set('pair', () => ({ kind: 'text', text: 'done', delayMs: 800 }));

      const first = accepted(sut.trigger('pair', { type: 'message' }));
      const second = accepted(sut.trigger('pair', { type: 'message' }));
      const third = sut.trigger('pair', { type: 'message' });

      expect(third).toEqual({
        accepted: false,
        reason: `the agent is busy with runs ${first}, ${second} (all 2 of its parallel runs; it is set to reject runs when busy)`,
      });
      expect((await finished(first)).status).toBe('succeeded');
      expect((await finished(second)).status).toBe('succeeded');
      // A slot is free again.
      expect((await finished(accepted(sut.trigger('pair', { type: 'message' })))).status).toBe('succeeded');
    });

    it('enqueue with maxParallel: the run past the limit waits for the first free slot', async () => {
      sut.upsert(agent('trio', { concurrency: { maxParallel: 2, onBusy: 'enqueue' } }));
      behaviours.set('trio', (request) => ({
        kind: 'text',
        text: 'done',
        delayMs: JSON.stringify(request.body?.messages).includes('short') ? 300 : 1_500,
      }));

      const long = accepted(sut.trigger('trio', { type: 'message' }, 'long'));
      const short = accepted(sut.trigger('trio', { type: 'message' }, 'short'));
      const waiting = sut.trigger('trio', { type: 'message' }, 'third');

      expect(waiting).toMatchObject({ accepted: true, queued: true });
      expect(sut.status().trio).toMatchObject({ status: 'running', queued: 1 });
      const third = await finished(accepted(waiting));
      const [longRecord, shortRecord] = [await finished(long), await finished(short)];
      expect(third.status).toBe('succeeded');
      // It took the slot the short run freed, while the long one still ran.
      expect(third.startedAt!).toBeGreaterThanOrEqual(shortRecord.endedAt!);
      expect(third.startedAt!).toBeLessThan(longRecord.endedAt!);
    });

    it('interrupt with maxParallel: the oldest run gives way, the others go on', async () => {
      sut.upsert(agent('crowd', { concurrency: { maxParallel: 2, onBusy: 'interrupt' } }));
      behaviours.set('crowd', () => ({ kind: 'text', text: 'done', delayMs: 1_000 }));

      const oldest = accepted(sut.trigger('crowd', { type: 'message' }, 'oldest'));
      const younger = accepted(sut.trigger('crowd', { type: 'message' }, 'younger'));
      await waitFor('both model requests', () => server.completionRequests.length === 2, { intervalMs: 20 });
      const newest = sut.trigger('crowd', { type: 'message' }, 'newest');

      expect(newest).toMatchObject({ accepted: true, queued: false });
      expect(stores.runs.get(oldest)).toMatchObject({
        status: 'interrupted',
        error: 'interrupted by a newer run (the agent is set to interrupt when busy)',
      });
      expect(stores.runs.get(younger)?.status).toBe('running');
      expect(await finished(younger)).toMatchObject({ status: 'succeeded', input: 'younger' });
      expect(await finished(accepted(newest))).toMatchObject({ status: 'succeeded', input: 'newest' });
      expect(sut.status().crowd?.status).toBe('idle');
    });

    it('remove interrupts every parallel run of the agent and waits for their processes', async () => {
      sut.upsert(agent('swarm', { concurrency: { maxParallel: 3 } }));
      behaviours.set('swarm', () => ({ kind: 'text', text: 'x', delayMs: 5_000 }));
      const runIds = [1, 2, 3].map(() => accepted(sut.trigger('swarm', { type: 'message' })));
      await waitFor('three model requests', () => server.completionRequests.length === 3, { intervalMs: 20 });
      const pids = sut.activeRuns().map((run) => run.pid!);
      expect(pids).toHaveLength(3);

      await sut.remove('swarm');

      expect(pids.filter(isAlive)).toEqual([]);
      expect(runIds.map((id) => stores.runs.get(id)?.status)).toEqual([
        'interrupted',
        'interrupted',
        'interrupted',
      ]);
      expect(sut.activeRuns()).toEqual([]);
    });

    it('a lowered maxParallel holds: interrupt makes room down to the new limit', async () => {
      sut.upsert(agent('shrinks', { concurrency: { maxParallel: 2, onBusy: 'interrupt' } }));
      behaviours.set('shrinks', () => ({ kind: 'text', text: 'done', delayMs: 1_000 }));
      const older = [1, 2].map(() => accepted(sut.trigger('shrinks', { type: 'message' })));

      sut.upsert(agent('shrinks', { concurrency: { maxParallel: 1, onBusy: 'interrupt' } }));
      expect(sut.activeRuns()).toHaveLength(2); // runs in progress are not cut short by the change
      const newest = accepted(sut.trigger('shrinks', { type: 'message' }));

      expect(older.map((id) => stores.runs.get(id)?.status)).toEqual(['interrupted', 'interrupted']);
      expect(sut.activeRuns().map((run) => run.runId)).toEqual([newest]);
      expect((await finished(newest)).status).toBe('succeeded');
    });

    it('a larger maxParallel starts queued runs at once', async () => {
      sut.upsert(agent('grows', { concurrency: { maxParallel: 1, onBusy: 'enqueue' } }));
      behaviours.set('grows', () => ({ kind: 'text', text: 'done', delayMs: 1_500 }));
      const first = accepted(sut.trigger('grows', { type: 'message' }));
      const second = accepted(sut.trigger('grows', { type: 'message' }));
      expect(stores.runs.get(second)?.status).toBe('queued');

      sut.upsert(agent('grows', { concurrency: { maxParallel: 2, onBusy: 'enqueue' } }));

      expect(stores.runs.get(second)?.status).toBe('running');
      expect(sut.activeRuns()).toHaveLength(2);
      expect((await finished(first)).status).toBe('succeeded');
      expect((await finished(second)).status).toBe('succeeded');
    });
  });

  it('ends a run budget-exhausted when the day budget is used up, and refuses triggers until it reopens', async () => {
    sut.upsert(
      agent('thrifty', {
        budget: { tokensPerDay: 20, tokensPerRun: 100_000 },
        instructions: `You are thrifty. ${'Be very careful with every word you say. '.repeat(5)}`,
      }),
    );

    const runId = accepted(sut.trigger('thrifty', { type: 'message' }, 'hello'));
    const record = await finished(runId);

    expect(record.status).toBe('budget-exhausted');
    expect(server.completionRequests).toEqual([]);
    const status = sut.status().thrifty;
    expect(status?.status).toBe('budget-exhausted');
    expect(status?.detail).toMatch(
      /daily token budget \(20 tokens\) is used up until \d{4}-\d\d-\d\dT00:00:00.000Z/,
    );
    const refused = sut.trigger('thrifty', { type: 'message' }, 'again');
    expect(refused).toEqual({ accepted: false, reason: status?.detail });

    // A larger budget from the owner lifts the block at once.
    sut.upsert(agent('thrifty', { budget: { tokensPerDay: 100_000, tokensPerRun: 100_000 } }));
    expect(sut.status().thrifty?.status).toBe('idle');
    expect((await finished(accepted(sut.trigger('thrifty', { type: 'message' })))).status).toBe('succeeded');
  });

  it('fails the run, not the device agent, when the run process sends a malformed message', async () => {
    const rogue = join(dir, 'rogue-worker.mjs');
    writeFileSync(
      rogue,
      "process.send({ type: 'model', requestId: -1, messages: 'all of them' });\nsetInterval(() => {}, 1000);\n",
    );
    await sut.stop();
    sut = new AgentSupervisor({
      store: stores,
      gateway: { call: () => Promise.reject(new Error('never called')) },
      tools: new ToolHost({
        stateDir: dir,
        memory: stores.memory,
        publish: () => undefined,
        notify: () => undefined,
      }),
      reporter,
      workerPath: rogue,
    });
    sut.upsert(agent('rogue'));

    const record = await finished(accepted(sut.trigger('rogue', { type: 'message' })));

    expect(record.status).toBe('failed');
    expect(record.error).toMatch(/^the run process sent a malformed message \(requestId: /);
    expect(sut.activeRuns()).toEqual([]);
  });

  it('remove interrupts the running run; stop interrupts the rest', async () => {
    sut.upsert(agent('leaving'));
    sut.upsert(agent('staying'));
    behaviours.set('leaving', () => ({ kind: 'text', text: 'x', delayMs: 5_000 }));
    behaviours.set('staying', () => ({ kind: 'text', text: 'x', delayMs: 5_000 }));
    const leaving = accepted(sut.trigger('leaving', { type: 'message' }));
    const staying = accepted(sut.trigger('staying', { type: 'message' }));
    await inFlight('leaving');
    const pid = pidOf('leaving');

    await sut.remove('leaving');

    expect(isAlive(pid)).toBe(false);
    expect(stores.runs.get(leaving)).toMatchObject({
      status: 'interrupted',
      error: 'the agent was removed from this box',
    });
    expect(Object.keys(sut.status())).toEqual(['staying']);
    expect(sut.trigger('leaving', { type: 'message' })).toEqual({
      accepted: false,
      reason: 'no agent "leaving" is installed on this box',
    });

    await sut.stop();
    expect(stores.runs.get(staying)).toMatchObject({ status: 'interrupted', error: STOPPING_REASON });
    expect(sut.trigger('staying', { type: 'message' })).toEqual({ accepted: false, reason: STOPPING_REASON });
  });

  it('recoverAtStart marks the runs a crashed device agent left running as interrupted, and reports them', async () => {
    const left: RunRecord = {
      id: 'run-left-running',
      agentId: 'ghost',
      agentVersion: 1,
      trigger: { type: 'cron', detail: '*/5 * * * *' },
      status: 'running',
      createdAt: Date.now() - 60_000,
      startedAt: Date.now() - 60_000,
      steps: 1,
      usage: { inputTokens: 10, outputTokens: 2 },
    };
    stores.runs.create(left);
    stores.runs.create({ ...left, id: 'run-left-queued', status: 'queued' });
    stores.runs.appendEvent({
      runId: left.id,
      agentId: 'ghost',
      ts: left.createdAt,
      type: 'status',
      name: 'running',
    });
    await sut.stop();
    stores.close();

    // The device agent comes back.
    stores = openAgentStores(join(dir, 'state'));
    sut = createSupervisor();
    const recovered = sut.recoverAtStart();

    expect(recovered.map((r) => [r.id, r.status, r.error])).toEqual([
      ['run-left-running', 'interrupted', RECOVERED_REASON],
      ['run-left-queued', 'interrupted', RECOVERED_REASON],
    ]);
    expect(stores.runs.list({ status: 'running' })).toEqual([]);
    expect(reporter.runs.map((r) => r.id)).toEqual(['run-left-running', 'run-left-queued']);
    expect(stores.runs.events(left.id).map((e) => [e.index, e.name])).toEqual([
      [0, 'running'],
      [1, 'interrupted'],
    ]);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
