import { mkdir, stat } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir, type TempDir } from '@agentbox/test-support/vitest';
import {
  AgentDefinitionSchema,
  BirthMessageSchema,
  CommandResultMessageSchema,
  ReportedStateMessageSchema,
  RunEventsMessageSchema,
  RunsMessageSchema,
  TelemetryMessageSchema,
  UsageMessageSchema,
  topics,
  type DesiredAgent,
  type DesiredStateMessage,
  type RunEvent,
  type RunRecord,
  type UsageRecord,
} from '@agentbox/schemas';
import { freePort, startOpenAiTestServer, type OpenAiTestServer } from '@agentbox/test-support';
import { sealSecret } from '@agentbox/sealed-secret';
import { BoxSecretsKey } from '../src/modules/agents/secrets/box-secrets-key.js';
import { DeviceAgentProcess, ensureBuilt, logOnFailure } from './support/device-agent-process.js';
import { FakeFleet, waitFor } from './support/fake-fleet.js';

const API_KEY = 'sk-e2e-0123456789abcdef';
const SLOW_INPUT = 'a slow task that is still running when the box dies';

const agent = (id: string, definition: Record<string, unknown>): DesiredAgent => ({
  id,
  version: 1,
  definition: AgentDefinitionSchema.parse({
    name: id,
    instructions: 'You keep an eye on the box.',
    model: { provider: 'testai', model: 'test-model' },
    ...definition,
  }),
});

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

/**
 * What each suite here stands on: a fake fleet and the model test server (taking API_KEY), started before the
 * suite and stopped after it together with its device agent; a temp root whose `state` dir is the device
 * agent's; a free webhook port; and the device agent's last log lines after a failed test.
 */
class AgentsTestbed {
  readonly fleet = new FakeFleet();
  model!: OpenAiTestServer;
  webhookPort = 0;

  constructor(private readonly dir: TempDir) {}

  get root(): string {
    return this.dir.path;
  }

  get stateDir(): string {
    return join(this.root, 'state');
  }
}

function useAgentsTestbed(
  rootPrefix: string,
  deviceAgent: () => DeviceAgentProcess | undefined,
): AgentsTestbed {
  const bed = new AgentsTestbed(useTempDir(rootPrefix, { per: 'suite' }));
  beforeAll(async () => {
    ensureBuilt();
    bed.webhookPort = await freePort();
    await bed.fleet.start();
    bed.model = await startOpenAiTestServer({ apiKey: API_KEY });
  });
  logOnFailure(deviceAgent, 40);
  afterAll(async () => {
    await deviceAgent()?.dispose();
    await bed.model?.close();
    await bed.fleet.stop();
  });
  return bed;
}

describe('agents on the built device agent, against a real broker and the model test server', () => {
  let deviceAgent: DeviceAgentProcess | undefined;
  const bed = useAgentsTestbed('agentbox-agents-e2e-', () => deviceAgent);
  const { fleet } = bed;
  let deviceId = '';
  let secretsKey = '';

  const env = () => ({
    AGENTBOX_FLEET_URL: fleet.fleetUrl,
    AGENTBOX_STATE_DIR: bed.stateDir,
    AGENTBOX_MQTT_KEEPALIVE_SEC: '2',
    AGENTBOX_TELEMETRY_INTERVAL_SEC: '5',
    AGENTBOX_LOG_LEVEL: 'debug',
    AGENTBOX_WEBHOOK_PORT: String(bed.webhookPort),
  });

  // Every record the cloud got, latest per id (messages arrive in spool order).
  const runs = () => {
    const byId = new Map<string, RunRecord>();
    for (const message of fleet.messages('/up/runs'))
      for (const run of RunsMessageSchema.parse(message.json).runs) byId.set(run.id, run);
    return byId;
  };
  const runEvents = (): RunEvent[] =>
    fleet.messages('/up/run-events').flatMap((m) => RunEventsMessageSchema.parse(m.json).events);
  const usage = (): UsageRecord[] =>
    fleet.messages('/up/usage').flatMap((m) => UsageMessageSchema.parse(m.json).records);
  const lastAgentsState = () => {
    const states = fleet.messages('/up/state');
    const last = states[states.length - 1];
    return last ? ReportedStateMessageSchema.parse(last.json).current.agents : undefined;
  };

  beforeAll(() => {
    // ticker: calls the memory tool, then answers. helper: slow for SLOW_INPUT, else quick.
    bed.model.setResponder((request) => {
      const messages = request.body?.messages ?? [];
      const text = JSON.stringify(messages);
      if (text.includes(SLOW_INPUT)) return { kind: 'text', text: 'finally done', delayMs: 60_000 };
      const tools = request.body?.tools ?? [];
      if (tools.length > 0 && !messages.some((m) => m.role === 'tool'))
        return {
          kind: 'tool-calls',
          calls: [{ name: 'memory', arguments: { op: 'set', key: 'seen', value: 'yes' } }],
        };
      return { kind: 'text', text: 'all quiet on the box' };
    });
  });

  it('sends its secrets key in the birth message (private key 0600 in the state dir)', async () => {
    deviceAgent = new DeviceAgentProcess({ ...env(), AGENTBOX_CLAIM_TOKEN: fleet.claimToken }).start();
    const birth = await waitFor(() => fleet.messages('/up/birth')[0], 20_000, 'birth');
    deviceId = birth.topic.split('/')[3]!;
    const parsed = BirthMessageSchema.parse(birth.json);
    expect(parsed.secretsKey).toBeDefined();
    secretsKey = parsed.secretsKey!;
    expect((await stat(join(bed.stateDir, 'secrets-key.pem'))).mode & 0o777).toBe(0o600);
    expect((await BoxSecretsKey.loadOrCreate(bed.stateDir)).publicKey).toBe(secretsKey);
  });

  it('reconciles the desired agents and providers and reports them in up/state', async () => {
    const otherKeyDir = join(bed.root, 'other-key');
    await mkdir(otherKeyDir);
    const otherKey = await BoxSecretsKey.loadOrCreate(otherKeyDir);
    const desired: DesiredStateMessage = {
      v: 1,
      version: 1,
      ts: Date.now(),
      spec: {
        agents: [
          agent('ticker', {
            tools: [{ tool: 'memory' }],
            triggers: [{ type: 'interval', everySec: 2, input: 'Check the box.' }],
            concurrency: { onBusy: 'reject', queueSize: 1 },
          }),
          agent('helper', { triggers: [{ type: 'message' }, { type: 'webhook' }] }),
          agent('locked-out', { model: { provider: 'sealed-elsewhere', model: 'x' } }),
        ],
        providers: [
          { id: 'testai', version: 1, baseUrl: bed.model.url, apiKey: sealSecret(API_KEY, secretsKey) },
          {
            id: 'sealed-elsewhere',
            version: 1,
            baseUrl: bed.model.url,
            apiKey: sealSecret('sk-not-for-this-box', otherKey.publicKey),
          },
        ],
      },
    };
    await fleet.publish(topics.desired(deviceId), desired, { retain: true });
    const agents = await waitFor(
      () => {
        const state = lastAgentsState();
        const all = state && [state.ticker, state.helper, state['locked-out']];
        return all?.every((a) => a && a.status !== 'installing') ? state : undefined;
      },
      15_000,
      'agents in up/state',
    );
    expect(agents.ticker).toMatchObject({ version: 1 });
    expect(['idle', 'running']).toContain(agents.ticker!.status);
    expect(agents['locked-out']).toMatchObject({ status: 'error' });
    expect(agents['locked-out']!.detail).toMatch(/sealed-elsewhere v1: its API key could not be opened/);
    // The sealed key never shows up in plain text in the logs.
    expect(JSON.stringify(deviceAgent!.logs)).not.toContain(API_KEY);
  });

  it('runs the interval trigger: the model and a tool are called; up/runs, up/run-events and up/usage arrive', async () => {
    const done = await waitFor(
      () => [...runs().values()].find((r) => r.agentId === 'ticker' && r.status === 'succeeded'),
      20_000,
      'a succeeded ticker run',
    );
    expect(done).toMatchObject({
      trigger: { type: 'interval' },
      input: 'Check the box.',
      output: 'all quiet on the box',
    });
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    const events = await waitFor(
      () => {
        const list = runEvents().filter((e) => e.runId === done.id);
        return list.some((e) => e.type === 'status' && e.name === 'succeeded') ? list : undefined;
      },
      10_000,
      'the run events',
    );
    const types = events.map((e) => `${e.type}:${e.name ?? ''}`);
    expect(types).toContain('tool-call:memory');
    expect(types).toContain('tool-result:memory');
    expect(types.filter((t) => t.startsWith('model:'))).toHaveLength(2);
    const records = await waitFor(
      () => {
        const list = usage().filter((u) => u.runId === done.id);
        return list.length >= 2 ? list : undefined;
      },
      10_000,
      'usage of the run',
    );
    expect(
      records.every((u) => u.provider === 'testai' && u.model === 'test-model' && u.outcome === 'ok'),
    ).toBe(true);
    const total = records.reduce((sum, u) => sum + u.inputTokens, 0);
    expect(total).toBe(done.usage.inputTokens);
    // The model was called with the key the box opened.
    expect(bed.model.completionRequests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('answers the agent.run command with a runId', async () => {
    const now = Date.now();
    await fleet.publish(
      topics.command(deviceId, 'cmd-run-1'),
      {
        v: 1,
        id: 'cmd-run-1',
        name: 'agent.run',
        args: { agentId: 'helper', input: 'Say hi.' },
        issuedAt: now,
        expiresAt: now + 60_000,
      },
      {
        properties: {
          responseTopic: topics.result(deviceId, 'cmd-run-1'),
          correlationData: Buffer.from('c1'),
        },
      },
    );
    const result = CommandResultMessageSchema.parse(
      (await waitFor(() => fleet.messages('/up/results/cmd-run-1')[0], 10_000, 'agent.run result')).json,
    );
    expect(result.status).toBe('succeeded');
    const { runId } = result.output as { runId: string };
    const run = await waitFor(
      () => (runs().get(runId)?.status === 'succeeded' ? runs().get(runId) : undefined),
      15_000,
      'the task run',
    );
    expect(run).toMatchObject({
      agentId: 'helper',
      trigger: { type: 'message', detail: 'cmd-run-1' },
      input: 'Say hi.',
    });

    await fleet.publish(topics.command(deviceId, 'cmd-run-2'), {
      v: 1,
      id: 'cmd-run-2',
      name: 'agent.run',
      args: { agentId: 'ticker', input: 'x' },
      issuedAt: now,
      expiresAt: now + 60_000,
    });
    const refused = await waitFor(() => fleet.messages('/up/results/cmd-run-2')[0], 10_000, 'refused task');
    expect(refused.json).toMatchObject({
      status: 'rejected',
      error: 'agent ticker does not take tasks from the console (no message trigger)',
    });
  });

  it('starts runs from the loopback webhook, and only there', async () => {
    const res = await fetch(`http://127.0.0.1:${bed.webhookPort}/agents/helper/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'From a local script.' }),
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    await waitFor(() => runs().get(runId)?.status === 'succeeded', 15_000, 'the webhook run');
    expect(runs().get(runId)!.trigger.type).toBe('webhook');
    const noHook = await fetch(`http://127.0.0.1:${bed.webhookPort}/agents/ticker/runs`, {
      method: 'POST',
      body: JSON.stringify({ input: 'x' }),
    });
    expect(noHook.status).toBe(404);
    const address = nonLoopbackAddress();
    if (address !== undefined) {
      await expect(
        fetch(`http://${address}:${bed.webhookPort}/agents/helper/runs`, {
          method: 'POST',
          body: '{"input":"x"}',
        }),
      ).rejects.toThrow();
    }
  });

  it('after kill -9 mid-run and a restart, the run is reported interrupted and nothing stays running', async () => {
    const res = await fetch(`http://127.0.0.1:${bed.webhookPort}/agents/helper/runs`, {
      method: 'POST',
      body: JSON.stringify({ input: SLOW_INPUT }),
    });
    const { runId } = (await res.json()) as { runId: string };
    await waitFor(
      () => bed.model.completionRequests.some((r) => JSON.stringify(r.body?.messages).includes(SLOW_INPUT)),
      10_000,
      'the slow model call',
    );
    await waitFor(() => runs().get(runId)?.status === 'running', 10_000, 'the slow run reported running');
    const killedAt = Date.now();
    deviceAgent!.kill('SIGKILL');
    await deviceAgent!.exit;

    deviceAgent = new DeviceAgentProcess(env()).start();
    const interrupted = await waitFor(
      () => (runs().get(runId)?.status === 'interrupted' ? runs().get(runId) : undefined),
      20_000,
      'the killed run reported interrupted',
    );
    expect(interrupted.error).toMatch(/stopped while the run was in progress/);
    // Nothing that started before the kill is left running, on the box or in what the cloud got.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stale = [...runs().values()].filter(
      (r) => r.createdAt < killedAt && (r.status === 'running' || r.status === 'queued'),
    );
    expect(stale).toEqual([]);
    const db = new Database(join(bed.stateDir, 'agents.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare("SELECT count(*) AS n FROM runs WHERE status IN ('running', 'queued') AND created_at < ?")
        .get(killedAt) as { n: number };
      expect(row.n).toBe(0);
    } finally {
      db.close();
    }
    // The restarted box runs its installed agents again.
    await waitFor(
      () =>
        [...runs().values()].some(
          (r) => r.agentId === 'ticker' && r.createdAt > killedAt && r.status === 'succeeded',
        ),
      20_000,
      'ticker running again after the restart',
    );
  });

  it('offline from the broker for a while: runs and usage made meanwhile arrive after reconnect, with the same ids', async () => {
    await fleet.stopBroker();
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const to = Date.now();
    const beforeReconnect = new Set(runs().keys());
    await fleet.startBroker();
    const offlineRuns = await waitFor(
      () => {
        const list = [...runs().values()].filter(
          (r) =>
            r.agentId === 'ticker' && r.createdAt >= from && r.createdAt <= to && r.status === 'succeeded',
        );
        return list.length >= 2 ? list : undefined;
      },
      30_000,
      'runs made while offline',
    );
    for (const run of offlineRuns) expect(beforeReconnect.has(run.id)).toBe(false);
    await waitFor(
      () => offlineRuns.every((run) => usage().filter((u) => u.runId === run.id).length >= 2),
      15_000,
      'usage of the offline runs',
    );
    // A usage id arriving twice (a replay) is the same record, so the cloud counts it once.
    const byId = new Map<string, string>();
    for (const record of usage()) {
      const json = JSON.stringify(record);
      expect(byId.get(record.id) ?? json).toBe(json);
      byId.set(record.id, json);
    }
  });

  it('counts tokens per agent per minute in telemetry', async () => {
    const sample = await waitFor(
      () =>
        fleet
          .messages('/up/telemetry')
          .flatMap((m) => TelemetryMessageSchema.parse(m.json).samples)
          .find((s) => (s.values['agent.ticker.tokens_in'] ?? 0) > 0),
      70_000,
      'agent token metrics',
    );
    expect(sample.ts % 60_000).toBe(0);
    expect(sample.values['agent.ticker.tokens_out']).toBeGreaterThan(0);
    // The same tokens per model: ticker uses test-model only.
    expect(sample.values['agent.ticker.test_model.tokens_in']).toBe(sample.values['agent.ticker.tokens_in']);
    expect(sample.values['agent.ticker.test_model.tokens_out']).toBe(
      sample.values['agent.ticker.tokens_out'],
    );
  }, 80_000);

  it('stops cleanly on SIGTERM, and after a restart runs its installed agents before it is online', async () => {
    deviceAgent!.kill('SIGTERM');
    expect((await deviceAgent!.exit!).code).toBe(0);
    const countSucceeded = (since: number) => {
      const db = new Database(join(bed.stateDir, 'agents.db'), { readonly: true, fileMustExist: true });
      try {
        return (
          db
            .prepare(
              "SELECT count(*) AS n FROM runs WHERE agent_id = 'ticker' AND status = 'succeeded' AND created_at > ?",
            )
            .get(since) as { n: number }
        ).n;
      } finally {
        db.close();
      }
    };
    await fleet.stopBroker();
    const restartedAt = Date.now();
    deviceAgent = new DeviceAgentProcess(env()).start();
    try {
      await waitFor(() => countSucceeded(restartedAt) >= 1, 15_000, 'a ticker run with the broker away');
      expect(deviceAgent.hasLog('connected')).toBe(false);
    } finally {
      await fleet.startBroker();
    }
    deviceAgent.kill('SIGTERM');
    expect((await deviceAgent.exit!).code).toBe(0);
    const db = new Database(join(bed.stateDir, 'agents.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare("SELECT count(*) AS n FROM runs WHERE status IN ('running', 'queued')")
        .get() as { n: number };
      expect(row.n).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('parallel runs of one agent on the built device agent, against one day budget', () => {
  let deviceAgent: DeviceAgentProcess | undefined;
  const bed = useAgentsTestbed('agentbox-parallel-e2e-', () => deviceAgent);
  const { fleet } = bed;

  const PARALLEL = 20;
  const MODEL_DELAY_MS = 3_000;
  const MAX_OUTPUT_TOKENS = 200;
  const TOKENS_PER_DAY = 1_000;

  beforeAll(() => {
    // Slow, so the runs overlap, and long, so each answer uses its whole output limit: had the budget
    // admitted every run, their usage would be far over it.
    bed.model.setResponder(() => ({
      kind: 'text',
      text: 'word '.repeat(MAX_OUTPUT_TOKENS * 2),
      delayMs: MODEL_DELAY_MS,
    }));
    deviceAgent = new DeviceAgentProcess({
      AGENTBOX_FLEET_URL: fleet.fleetUrl,
      AGENTBOX_STATE_DIR: bed.stateDir,
      AGENTBOX_LOG_LEVEL: 'debug',
      AGENTBOX_WEBHOOK_PORT: String(bed.webhookPort),
      AGENTBOX_CLAIM_TOKEN: fleet.claimToken,
    }).start();
  });

  it(`${PARALLEL} runs at once never use more than the day budget; the refused ones end budget-exhausted`, async () => {
    const birth = await waitFor(() => fleet.messages('/up/birth')[0], 20_000, 'birth');
    const deviceId = birth.topic.split('/')[3]!;
    const { secretsKey } = BirthMessageSchema.parse(birth.json);
    const swarm = agent('swarm', {
      triggers: [{ type: 'webhook' }],
      concurrency: { maxParallel: PARALLEL, onBusy: 'reject' },
      budget: { tokensPerDay: TOKENS_PER_DAY, tokensPerRun: 100_000 },
      limits: { maxOutputTokens: MAX_OUTPUT_TOKENS },
    });
    await fleet.publish(
      topics.desired(deviceId),
      {
        v: 1,
        version: 1,
        ts: Date.now(),
        spec: {
          agents: [swarm],
          providers: [
            { id: 'testai', version: 1, baseUrl: bed.model.url, apiKey: sealSecret(API_KEY, secretsKey!) },
          ],
        },
      } satisfies DesiredStateMessage,
      { retain: true },
    );
    const agentState = () => {
      const states = fleet.messages('/up/state');
      const last = states[states.length - 1];
      return last ? ReportedStateMessageSchema.parse(last.json).current.agents?.swarm : undefined;
    };
    await waitFor(() => agentState()?.status === 'idle', 15_000, 'swarm installed');

    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        fetch(`http://127.0.0.1:${bed.webhookPort}/agents/swarm/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input: `Task number ${i}.` }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> })),
      ),
    );
    // Each started at once, none waited in a queue; on a slow machine the last may come in after the
    // first run was refused by the budget, and are then refused at the door for the rest of the day.
    for (const response of responses) {
      if (response.status === 202) expect(response.body.queued).toBe(false);
      else
        expect(response).toMatchObject({
          status: 409,
          body: {
            reason: expect.stringMatching(/^the agent's daily token budget \(1000 tokens\) is used up/),
          },
        });
    }
    const runIds = responses.flatMap((r) => (r.status === 202 ? [r.body.runId as string] : []));
    const ended = await waitFor(
      () => {
        const byId = new Map<string, RunRecord>();
        for (const message of fleet.messages('/up/runs'))
          for (const run of RunsMessageSchema.parse(message.json).runs) byId.set(run.id, run);
        const list = runIds.map((id) => byId.get(id));
        return list.every((r) => r && r.status !== 'running' && r.status !== 'queued')
          ? (list as RunRecord[])
          : undefined;
      },
      30_000,
      'every run to end',
    );
    const succeeded = ended.filter((r) => r.status === 'succeeded');
    const refused = ended.filter((r) => r.status !== 'succeeded');
    expect(succeeded.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.map((r) => r.status)).toEqual(refused.map(() => 'budget-exhausted'));
    for (const run of refused) expect(run.error).toMatch(/^the day budget of 1000 tokens has \d+ left/);

    // The admitted calls were in flight together: each was held MODEL_DELAY_MS, and they all arrived
    // within less than that.
    const arrivals = bed.model.completionRequests.map((r) => r.receivedAt).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(succeeded.length);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeLessThan(MODEL_DELAY_MS);

    const records = await waitFor(
      () => {
        const list = fleet
          .messages('/up/usage')
          .flatMap((m) => UsageMessageSchema.parse(m.json).records)
          .filter((u) => u.agentId === 'swarm');
        return list.length >= succeeded.length ? list : undefined;
      },
      10_000,
      'usage of the admitted runs',
    );
    expect(records).toHaveLength(succeeded.length);
    const tokens = (u: { inputTokens: number; outputTokens: number }) => u.inputTokens + u.outputTokens;
    const used = records.reduce((sum, u) => sum + tokens(u), 0);
    expect(used).toBeLessThanOrEqual(TOKENS_PER_DAY);
    // The budget mattered: every run admitted would have used several times the day budget.
    expect(Math.max(...records.map(tokens)) * PARALLEL).toBeGreaterThan(2 * TOKENS_PER_DAY);
    expect(succeeded.reduce((sum, r) => sum + tokens(r.usage), 0)).toBe(used);

    // Reported once the last run has ended: blocked for the day, with every token the runs used.
    const state = await waitFor(
      () => {
        const current = agentState();
        return current?.status === 'budget-exhausted' && current.tokensToday === used ? current : undefined;
      },
      10_000,
      'swarm reported budget-exhausted with the day usage',
    );
    expect(state.detail).toMatch(/daily token budget \(1000 tokens\) is used up until/);
  }, 90_000);
});
