import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  completionTestTokens,
  countTestTokens,
  promptTestTokens,
  startOpenAiTestServer,
  waitFor,
  type OpenAiTestBehaviour,
  type OpenAiTestServer,
  type RecordedRequest,
} from '@agentbox/test-support';
import { type DeviceAgentDto, type RunDetailDto, type RunDto, type UsageResponse } from '@agentbox/schemas';
import { Platform, readCredentials } from '../support/platform.js';
import { stacks } from '../support/stacks.js';

/**
 * AI agents end to end: the real fleet service (embedded broker, SQLite), real device-agent processes
 * with their agents' runs in child processes, and an OpenAI-compatible test server standing in for a
 * paid model API. Each agent's instructions carry a marker that tells the test server how to answer.
 */

const API_KEY = 'sk-e2e-0123456789abcdef';

type Run = RunDto;
type RunDetail = RunDetailDto;
type DeviceAgent = Pick<DeviceAgentDto, 'agentId' | 'desiredVersion' | 'reported'>;
type UsageTotals = Pick<UsageResponse, 'totals'>;

/** Tokens the test server reported in each answer it gave (counted in `served`). */
const charged: { request: RecordedRequest; input: number; output: number }[] = [];

/**
 * What the fleet must count: the answers the box read to the end. A box that drops a call before the
 * answer arrives (its agent was removed mid-run) got no tokens, so that call is not part of the books.
 */
function served(): { input: number; output: number; calls: number } {
  const complete = charged.filter((entry) => !entry.request.closedByClient);
  return {
    input: complete.reduce((sum, entry) => sum + entry.input, 0),
    output: complete.reduce((sum, entry) => sum + entry.output, 0),
    calls: complete.length,
  };
}

function lastUserText(request: RecordedRequest): string {
  const users = (request.body?.messages ?? []).filter((message) => message.role === 'user');
  const content = users.at(-1)?.content;
  return typeof content === 'string' ? content : '';
}

function systemText(request: RecordedRequest): string {
  const system = (request.body?.messages ?? []).find((message) => message.role === 'system');
  return typeof system?.content === 'string' ? system.content : '';
}

function hasToolResult(request: RecordedRequest): boolean {
  return (request.body?.messages ?? []).some((message) => message.role === 'tool');
}

function answer(request: RecordedRequest): OpenAiTestBehaviour {
  const system = systemText(request);
  const toolCall = (name: string, args: unknown): OpenAiTestBehaviour => {
    const calls = [{ name, arguments: args }];
    charged.push({
      request,
      input: promptTestTokens(request.body),
      output: completionTestTokens('', calls),
    });
    return { kind: 'tool-calls', calls };
  };
  const text = (value: string, delayMs = 0): OpenAiTestBehaviour => {
    if (delayMs === 0) {
      charged.push({ request, input: promptTestTokens(request.body), output: countTestTokens(value) });
    }
    return { kind: 'text', text: value, delayMs };
  };
  if (system.includes('MARK:scribe')) {
    return hasToolResult(request)
      ? text('noted the time')
      : toolCall('files_write', { path: 'notes/last.txt', content: 'ran' });
  }
  if (system.includes('MARK:prowler')) {
    if (hasToolResult(request)) return text('could not read it');
    return lastUserText(request).includes('denied')
      ? toolCall('http_fetch', { url: 'http://127.0.0.1:9/' })
      : toolCall('files_read', { path: '../../credentials.json' });
  }
  if (system.includes('MARK:sleeper')) {
    // Slow answers are cut short by the kills below; they are not part of the served totals.
    return lastUserText(request).includes('quick') ? text('awake') : text('finally awake', 60_000);
  }
  return text('ok');
}

const definition = (marker: string, extra: Record<string, unknown> = {}) => ({
  name: marker,
  instructions: `You are a test agent. MARK:${marker}`,
  model: { provider: 'local', model: 'test-model' },
  ...extra,
});

describe.each(stacks)('AI agents on real boxes, $name', (stack) => {
  let platform: Platform;
  let teardown: () => Promise<void> = () => Promise.resolve();
  let model: OpenAiTestServer;
  let boxA: string;
  let boxB: string;

  const api = () => platform.api;
  async function get<T>(path: string): Promise<T> {
    const response = await api().request<T>('GET', path);
    if (response.status !== 200)
      throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  async function send<T>(method: string, path: string, body?: unknown, expected = [200, 201, 202, 204]) {
    const response = await api().request<T>(method, path, body);
    if (!expected.includes(response.status)) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  }
  const runs = (query: string) => get<Run[]>(`/api/v1/runs?limit=200&${query}`);
  const run = (id: string) => get<RunDetail>(`/api/v1/runs/${id}`);
  const deviceAgents = (deviceId: string) => get<DeviceAgent[]>(`/api/v1/devices/${deviceId}/agents`);
  const agentPid = (name: string) => platform.agent(name).child.pid!;

  /** The run worker processes of a device agent: its child processes. */
  function workerPids(parentPid: number): number[] {
    try {
      return execFileSync('pgrep', ['-P', String(parentPid)], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  async function task(agentId: string, deviceId: string, input: string): Promise<string> {
    const body = await send<{ runId: string }>('POST', `/api/v1/agents/${agentId}/tasks`, {
      deviceId,
      input,
    });
    return body.runId;
  }

  async function runEnded(id: string, timeoutMs = 30_000): Promise<RunDetail> {
    return waitFor(
      `run ${id} ended`,
      async () => {
        const detail = await api().request<RunDetail>('GET', `/api/v1/runs/${id}`);
        return detail.status === 200 && !['queued', 'running'].includes(detail.body.status)
          ? detail.body
          : undefined;
      },
      { timeoutMs },
    );
  }

  /** A run's final record travels ahead of its last steps (docs/protocol.md section 11): waits for both. */
  async function runWithToolResult(id: string): Promise<RunDetail> {
    await runEnded(id);
    return waitFor(`run ${id} has its tool result`, async () => {
      const detail = await run(id);
      return detail.events.some((event) => event.type === 'tool-result') ? detail : undefined;
    });
  }

  beforeAll(async () => {
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: ['test-model'] });
    model.setResponder(answer);
    charged.length = 0;
    const setup = await stack.setup();
    teardown = () => setup.teardown();
    platform = new Platform(setup.env);
    await platform.start();
    const claim = await platform.api.createClaimToken({ maxUses: 2 });
    // No webhook port: two boxes share this machine's loopback.
    platform.startAgent('box-a', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    platform.startAgent('box-b', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    const a = await platform.waitForDevice((d) => d.name === 'box-a' && d.online, 'box-a online');
    const b = await platform.waitForDevice((d) => d.name === 'box-b' && d.online, 'box-b online');
    boxA = a.id;
    boxB = b.id;
    for (const id of [boxA, boxB]) await send('PATCH', `/api/v1/devices/${id}`, { tags: ['lab'] });
    await send('POST', '/api/v1/providers', {
      id: 'local',
      name: 'Test model server',
      baseUrl: model.url,
      models: ['test-model'],
      apiKey: API_KEY,
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await model?.close();
    await teardown();
  });

  let scribeAssignment: string;

  it('assigns an agent to a tag: both boxes reconcile, its schedule fires, runs call the model and a tool', async () => {
    await send('POST', '/api/v1/agents', {
      id: 'scribe',
      definition: definition('scribe', {
        tools: [{ tool: 'files.write' }],
        triggers: [{ type: 'interval', everySec: 2 }],
      }),
    });
    const assignment = await send<{ id: string }>('POST', '/api/v1/assignments', {
      agentId: 'scribe',
      target: { type: 'tag', tag: 'lab' },
    });
    scribeAssignment = assignment.id;

    for (const deviceId of [boxA, boxB]) {
      await waitFor(`${deviceId} reports scribe installed`, async () => {
        const agents = await deviceAgents(deviceId);
        const scribe = agents.find((agent) => agent.agentId === 'scribe');
        return scribe?.reported && scribe.reported.version === scribe.desiredVersion ? scribe : undefined;
      });
    }
    const done = await waitFor('a scribe run succeeded on each box', async () => {
      const all = await runs('agentId=scribe&status=succeeded');
      const a = all.find((r) => r.deviceId === boxA);
      const b = all.find((r) => r.deviceId === boxB);
      return a && b ? a : undefined;
    });
    const detail = await runWithToolResult(done.id);

    expect(detail.output).toBe('noted the time');
    expect(detail.trigger.type).toBe('interval');
    const calls = detail.events.filter((event) => event.type === 'tool-call');
    expect(calls.map((event) => event.name)).toEqual(['files.write']);
    const results = detail.events.filter((event) => event.type === 'tool-result');
    expect(results[0]?.error).toBeUndefined();
    expect(detail.usage.inputTokens).toBeGreaterThan(0);
    expect(detail.events.map((event) => event.index)).toEqual(detail.events.map((_, index) => index));
    // The tool wrote inside the agent's own sandbox on that box.
    const sandbox = join(
      platform.stateDir(done.deviceId === boxA ? 'box-a' : 'box-b'),
      'agents/scribe/files',
    );
    expect(readFileSync(join(sandbox, 'notes/last.txt'), 'utf8')).toBe('ran');
    // The key reached the box sealed: the model server refuses any other key, and the stored state has none.
    for (const box of ['box-a', 'box-b']) {
      const stored = readFileSync(join(platform.stateDir(box), 'desired.json'), 'utf8');
      expect(stored).not.toContain(API_KEY);
    }
    expect(model.completionRequests.every((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
  });

  it('keeps running while the cloud is away; every run and every token arrives afterwards, counted once', async () => {
    const before = (await runs('agentId=scribe')).length;
    await platform.restartFleet('SIGTERM', 7_000);
    // Runs kept going while the cloud was away (interval 2 s on two boxes) and were delivered afterwards.
    await waitFor(
      'runs made offline arrived',
      async () => (await runs('agentId=scribe')).length >= before + 4,
    );

    // Stop the schedule everywhere, let the last runs finish, then compare the books.
    await send('DELETE', `/api/v1/assignments/${scribeAssignment}`);
    for (const deviceId of [boxA, boxB]) {
      await waitFor(`${deviceId} removed scribe`, async () => {
        const agents = await deviceAgents(deviceId);
        return !agents.some((agent) => agent.agentId === 'scribe' && agent.reported);
      });
    }
    await waitFor(
      'usage settled: the fleet counted what the model server served, once',
      async () => {
        const usage = await get<UsageTotals>('/api/v1/usage?bucket=hour');
        const list = await runs('agentId=scribe');
        const open = list.filter((r) => r.status === 'running' || r.status === 'queued');
        return open.length === 0 &&
          usage.totals.inputTokens === served().input &&
          usage.totals.outputTokens === served().output
          ? usage
          : undefined;
      },
      { timeoutMs: 30_000 },
    ).catch(async (error: unknown) => {
      const usage = await get<UsageTotals>('/api/v1/usage?bucket=hour');
      throw new Error(
        `${(error as Error).message}: fleet ${JSON.stringify(usage.totals)}, served ${JSON.stringify(served())}`,
      );
    });
    const usage = await get<UsageTotals>('/api/v1/usage?bucket=hour');
    expect(usage.totals.estimatedRecords).toBe(0);
    // Runs add up to the usage records.
    const list = await runs('agentId=scribe');
    const fromRuns = list.reduce((sum, r) => sum + r.usage.inputTokens + r.usage.outputTokens, 0);
    expect(fromRuns).toBe(served().input + served().output);
  });

  it('kills one run process with -9: that run is interrupted, another agent is unaffected, the agent runs again', async () => {
    await send('POST', '/api/v1/agents', { id: 'sleeper', definition: definition('sleeper') });
    await send('POST', '/api/v1/assignments', {
      agentId: 'sleeper',
      target: { type: 'device', deviceId: boxA },
    });
    await send('POST', '/api/v1/assignments', {
      agentId: 'scribe',
      target: { type: 'device', deviceId: boxA },
    });
    await waitFor('box-a runs sleeper and scribe', async () => {
      const agents = await deviceAgents(boxA);
      return ['sleeper', 'scribe'].every((id) => agents.find((agent) => agent.agentId === id)?.reported);
    });

    const runId = await task('sleeper', boxA, 'take a long nap');
    await waitFor('the sleeper run is running', async () => (await run(runId)).status === 'running');
    const scribeBefore = (await runs(`agentId=scribe&deviceId=${boxA}&status=succeeded`)).length;
    const sleeperWorker = await waitFor('the sleeper worker process', async () => {
      // Scribe's short runs come and go; the sleeper's process is the one that stays.
      const first = workerPids(agentPid('box-a'));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const second = workerPids(agentPid('box-a'));
      return first.find((pid) => second.includes(pid));
    });
    process.kill(sleeperWorker, 'SIGKILL');

    const ended = await runEnded(runId);
    expect(ended.status).toBe('interrupted');
    expect(ended.error).toMatch(/SIGKILL|killed|exited/i);
    // The other agent on the same box kept working.
    await waitFor('scribe still succeeds on box-a', async () => {
      return (await runs(`agentId=scribe&deviceId=${boxA}&status=succeeded`)).length > scribeBefore + 1;
    });
    // The agent itself was restarted: its next task runs.
    const again = await waitFor('sleeper accepts a task again', async () => {
      const response = await api().request<{ runId: string }>('POST', '/api/v1/agents/sleeper/tasks', {
        deviceId: boxA,
        input: 'quick nap',
      });
      return response.status === 202 || response.status === 201 ? response.body.runId : undefined;
    });
    expect((await runEnded(again)).status).toBe('succeeded');
  });

  it('returns a path escape and a tool that was not granted to the model as errors; the run goes on', async () => {
    await send('POST', '/api/v1/agents', {
      id: 'prowler',
      definition: definition('prowler', { tools: [{ tool: 'files.read' }] }),
    });
    await send('POST', '/api/v1/assignments', {
      agentId: 'prowler',
      target: { type: 'device', deviceId: boxB },
    });
    await waitFor('box-b runs prowler', async () =>
      (await deviceAgents(boxB)).some((agent) => agent.agentId === 'prowler' && agent.reported),
    );

    const escape = await runWithToolResult(await task('prowler', boxB, 'read the credentials'));
    expect(escape.status).toBe('succeeded');
    const escapeResult = escape.events.find((event) => event.type === 'tool-result');
    expect(escapeResult?.error).toMatch(/outside|escape|not allowed|refused/i);
    expect(JSON.stringify(escape.events)).not.toContain(
      readCredentials(platform.stateDir('box-b')).mqtt.password,
    );

    const denied = await runWithToolResult(await task('prowler', boxB, 'try the denied tool'));
    expect(denied.status).toBe('succeeded');
    const deniedResult = denied.events.find((event) => event.type === 'tool-result');
    expect(deniedResult?.error).toMatch(/not granted|no tool/i);
  });

  it('kills the device agent with -9 mid-run: after its restart no run is left running', async () => {
    const runId = await task('sleeper', boxA, 'take a long nap');
    await waitFor('the sleeper run is running', async () => (await run(runId)).status === 'running');
    await platform.agent('box-a').kill('SIGKILL');
    platform.startAgent('box-a', undefined, { AGENTBOX_WEBHOOK_PORT: '0' });

    const ended = await runEnded(runId, 60_000);
    expect(ended.status).toBe('interrupted');
    await waitFor('nothing running on box-a', async () => {
      const open = await runs(`deviceId=${boxA}&status=running`);
      return open.length === 0 || open.every((r) => r.agentId === 'scribe' && r.id !== runId);
    });
    expect(existsSync(join(platform.stateDir('box-a'), 'agents.db'))).toBe(true);
  });
});
