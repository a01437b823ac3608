import {
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- response bodies are checked field by field */
import {
  AgentDtoSchema,
  type DesiredStateMessage,
  DeviceAgentDtoSchema,
  type LiveEvent,
  ProviderDtoSchema,
  RunDetailDtoSchema,
  type RunEvent,
  type RunRecord,
  type SealedSecret,
  topics,
  type UsageRecord,
  UsageResponseSchema,
  UsageSummarySchema,
} from '@agentbox/schemas';
import {
  provisionBox,
  provisionSimulatedBox,
  waitFor,
  type ReceivedCommand,
  type SimulatedBox,
} from '@agentbox/test-support';
import { drivers, expectError, recordLiveEvents, useFleetApp } from './support/fleet-app.js';

const API_KEY = 'sk-e2e-very-secret-key-0123456789';
const ROTATED_KEY = 'sk-e2e-rotated-key-9876543210';
const DAY_MS = 86_400_000;

/** The box side of docs/protocol.md section 11, written independently of the service's sealing code. */
function openSealed(sealed: SealedSecret, privateKey: KeyObject): string {
  expect(sealed.alg).toBe('x25519-hkdf-sha256-aes256gcm');
  const epk = createPublicKey({ key: Buffer.from(sealed.epk, 'base64'), format: 'der', type: 'spki' });
  const shared = diffieHellman({ privateKey, publicKey: epk });
  const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'agentbox-secret-v1', 32));
  const iv = Buffer.from(sealed.iv, 'base64');
  expect(iv).toHaveLength(12);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString(
    'utf8',
  );
}

describe.each(drivers)('agents, providers, runs and usage over HTTP and MQTT ($name)', (driver) => {
  const skip = driver.skip;
  let deviceId: string;
  let idleDeviceId: string;
  let box: SimulatedBox;
  const boxKeys = generateKeyPairSync('x25519');
  /** How the box answers agent.run, by input. */
  const answers = new Map<
    string,
    { status: 'succeeded' | 'rejected' | 'silent'; output?: unknown; error?: string }
  >();
  const live: LiveEvent[] = [];

  const app = useFleetApp(driver, 'agents', {
    signIn: 'every role',
    env: () => ({ AGENTBOX_INGEST_FLUSH_MS: '20', AGENTBOX_TASK_TIMEOUT_MS: '1500' }),
  });
  const { call, tokens } = app;

  beforeAll(async () => {
    if (skip) return;
    recordLiveEvents(app, live);

    const claim = await call('POST', '/api/v1/claim-tokens', { token: tokens.admin, body: { maxUses: 2 } });
    box = await provisionSimulatedBox(app.base, claim.body.token, {
      hardwareId: 'agents-e2e-hw-1',
      onCommand: (command) => {
        const input = (command.args as { input?: string }).input ?? '';
        const { status, ...answer } = answers.get(input) ?? { status: 'rejected', error: 'unknown agent' };
        return status === 'silent' ? undefined : { status, ...answer };
      },
    });
    deviceId = box.deviceId;
    idleDeviceId = (
      await provisionBox(app.base, { claimToken: claim.body.token, hardwareId: 'agents-e2e-hw-2' })
    ).deviceId;
    await box.goOnline({
      birth: {
        agentVersion: '1.0.0',
        bootId: 'boot-1',
        hardware: { hostname: 'e2e', platform: 'linux', arch: 'x64', cpuCores: 2, memTotalBytes: 1_000_000 },
        capabilities: [],
        metrics: [],
        telemetryIntervalSec: 10,
        secretsKey: boxKeys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      },
    });
    await waitFor(
      'box online',
      async () => (await call('GET', `/api/v1/devices/${deviceId}`, { token: tokens.admin })).body.online,
    );
  });

  afterAll(async () => {
    if (skip) return;
    await box?.close();
  });

  /** A command as the box received it, its correlation data as text. */
  function sentCommand(received: ReceivedCommand | undefined) {
    return received && { ...received, correlation: received.correlationData?.toString() };
  }

  /** The latest desired document the box received once it satisfies `probe`. */
  function desiredWhere(
    what: string,
    probe: (doc: DesiredStateMessage) => boolean,
  ): Promise<DesiredStateMessage> {
    return waitFor(
      what,
      () => {
        const last = box.desired.at(-1);
        return last && probe(last) ? last : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 25 },
    );
  }

  const agentBody = (id: string, overrides: Record<string, unknown> = {}) => ({
    id,
    definition: {
      name: `Agent ${id}`,
      instructions: 'Summarise the news.',
      model: { provider: 'deepseek', model: 'deepseek-chat' },
      ...overrides,
    },
  });

  it.skipIf(skip)(
    'manages providers as admin only and never returns or stores the key in plain text',
    async () => {
      const body = {
        id: 'deepseek',
        name: 'DeepSeek',
        baseUrl: 'https://api.deepseek.com/v1',
        models: ['deepseek-chat'],
        apiKey: API_KEY,
      };
      await expectError(
        call('POST', '/api/v1/providers', { token: tokens.operator, body }),
        403,
        'FORBIDDEN',
      );
      await expectError(call('POST', '/api/v1/providers', { token: tokens.viewer, body }), 403, 'FORBIDDEN');
      await expectError(call('POST', '/api/v1/providers'), 401, 'UNAUTHENTICATED');
      const invalid = await expectError(
        call('POST', '/api/v1/providers', { token: tokens.admin, body: { ...body, baseUrl: 'ftp://x' } }),
        400,
        'VALIDATION_FAILED',
      );
      expect(invalid.body.message).toContain('baseUrl');
      await expectError(
        call('POST', '/api/v1/providers', { token: tokens.admin, body: { ...body, id: 'Not A Slug' } }),
        400,
        'VALIDATION_FAILED',
      );

      const created = await call('POST', '/api/v1/providers', { token: tokens.admin, body });
      expect(created.status).toBe(201);
      expect(ProviderDtoSchema.strict().parse(created.body)).toMatchObject({
        id: 'deepseek',
        kind: 'openai-compatible',
        version: 1,
        hasApiKey: true,
      });
      expect(created.text).not.toContain('sk-e2e');
      await expectError(
        call('POST', '/api/v1/providers', { token: tokens.admin, body }),
        409,
        'PROVIDER_EXISTS',
      );
      const local = await call('POST', '/api/v1/providers', {
        token: tokens.admin,
        body: { id: 'ollama', name: 'Local', baseUrl: 'http://127.0.0.1:11434/v1' },
      });
      expect(local.body).toMatchObject({ hasApiKey: false, models: [] });

      const listed = await call('GET', '/api/v1/providers', { token: tokens.viewer });
      expect(listed.status).toBe(200);
      expect(listed.body.map((p: any) => p.id)).toEqual(['deepseek', 'ollama']);
      expect(listed.text).not.toContain('sk-e2e');
      expect((await call('GET', '/api/v1/providers/deepseek', { token: tokens.viewer })).text).not.toContain(
        'sk-e2e',
      );
      await expectError(
        call('GET', '/api/v1/providers/nope', { token: tokens.viewer }),
        404,
        'PROVIDER_NOT_FOUND',
      );
      await expectError(
        call('PATCH', '/api/v1/providers/deepseek', { token: tokens.operator, body: { name: 'x' } }),
        403,
        'FORBIDDEN',
      );
      const renamed = await call('PATCH', '/api/v1/providers/deepseek', {
        token: tokens.admin,
        body: { name: 'DeepSeek AI' },
      });
      expect(renamed.body).toMatchObject({ name: 'DeepSeek AI', version: 2, hasApiKey: true });

      const stored = await app.running.app
        .get(DataSource)
        .query<Array<{ api_key: string }>>("SELECT api_key FROM providers WHERE id = 'deepseek'");
      expect(stored[0]?.api_key).toMatch(/^v1:[0-9a-f]{12}:/);
      expect(stored[0]?.api_key).not.toContain('sk-e2e');
    },
  );

  it.skipIf(skip)('versions agents, validates definitions and enforces the operator role', async () => {
    await expectError(
      call('POST', '/api/v1/agents', { token: tokens.viewer, body: agentBody('news') }),
      403,
      'FORBIDDEN',
    );
    const unknown = await expectError(
      call('POST', '/api/v1/agents', {
        token: tokens.operator,
        body: agentBody('news', { fallbacks: [{ provider: 'nowhere', model: 'm' }] }),
      }),
      400,
      'AGENT_PROVIDER_UNKNOWN',
    );
    expect(unknown.body.message).toContain('nowhere');
    const invalid = await expectError(
      call('POST', '/api/v1/agents', {
        token: tokens.operator,
        body: { id: 'news', definition: { name: 'x', model: { provider: 'deepseek', model: 'm' } } },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expect(invalid.body.message).toContain('instructions');

    const created = await call('POST', '/api/v1/agents', { token: tokens.operator, body: agentBody('news') });
    expect(created.status).toBe(201);
    const agent = AgentDtoSchema.parse(created.body);
    expect(agent).toMatchObject({ id: 'news', version: 1, assignments: [] });
    // Defaults are filled in.
    expect(agent.definition.budget).toEqual({ tokensPerDay: 200_000, tokensPerRun: 20_000 });
    expect(agent.definition.triggers).toEqual([{ type: 'message' }]);
    await expectError(
      call('POST', '/api/v1/agents', { token: tokens.operator, body: agentBody('news') }),
      409,
      'AGENT_EXISTS',
    );

    const updated = await call('PUT', '/api/v1/agents/news', {
      token: tokens.operator,
      body: { definition: { ...agentBody('news').definition, instructions: 'Summarise the news twice.' } },
    });
    expect(updated.body).toMatchObject({ id: 'news', version: 2 });
    const versions = await call('GET', '/api/v1/agents/news/versions', { token: tokens.viewer });
    expect(versions.body.map((v: any) => [v.version, v.definition.instructions])).toEqual([
      [2, 'Summarise the news twice.'],
      [1, 'Summarise the news.'],
    ]);
    await expectError(call('GET', '/api/v1/agents/ghost', { token: tokens.viewer }), 404, 'AGENT_NOT_FOUND');
    await expectError(
      call('GET', '/api/v1/agents/Bad_Id', { token: tokens.viewer }),
      400,
      'VALIDATION_FAILED',
    );
    await expectError(
      call('PUT', '/api/v1/agents/ghost', {
        token: tokens.operator,
        body: { definition: agentBody('ghost').definition },
      }),
      404,
      'AGENT_NOT_FOUND',
    );
    expect(
      (await call('GET', '/api/v1/agents', { token: tokens.viewer })).body.map((a: any) => a.id),
    ).toEqual(['news']);
  });

  it.skipIf(skip)(
    'delivers assigned agents with provider keys sealed to the box, keeping other sections',
    async () => {
      const telemetry = await call('PUT', `/api/v1/devices/${deviceId}/desired`, {
        token: tokens.operator,
        body: { spec: { telemetry: { intervalSec: 30 } } },
      });
      expect(telemetry.status).toBe(200);
      await desiredWhere('telemetry section', (doc) => doc.spec.telemetry?.intervalSec === 30);

      const refused = [
        {
          token: tokens.viewer,
          body: { agentId: 'news', target: { type: 'all' } },
          status: 403,
          code: 'FORBIDDEN',
        },
        {
          token: tokens.operator,
          body: { agentId: 'ghost', target: { type: 'device', deviceId } },
          status: 404,
          code: 'AGENT_NOT_FOUND',
        },
        {
          token: tokens.operator,
          body: { agentId: 'news', target: { type: 'device', deviceId: 'box-nobody' } },
          status: 404,
          code: 'DEVICE_NOT_FOUND',
        },
        {
          token: tokens.operator,
          body: { agentId: 'news', target: { type: 'moon' } },
          status: 400,
          code: 'VALIDATION_FAILED',
        },
      ];
      for (const { token, body, status, code } of refused) {
        await expectError(call('POST', '/api/v1/assignments', { token, body }), status, code);
      }
      const assigned = await call('POST', '/api/v1/assignments', {
        token: tokens.operator,
        body: { agentId: 'news', target: { type: 'device', deviceId } },
      });
      expect(assigned.status).toBe(202);
      expect(assigned.body.job).toMatchObject({
        assignmentId: assigned.body.id,
        agentId: 'news',
        target: { type: 'device', deviceId },
        total: 1,
      });
      const job = await waitFor(
        'the assignment job done',
        async () => {
          const read = await call('GET', `/api/v1/assignment-jobs/${assigned.body.job.id}`, {
            token: tokens.viewer,
          });
          return read.body.state === 'done' ? read.body : undefined;
        },
        { timeoutMs: 10_000 },
      );
      expect(job).toMatchObject({ total: 1, done: 1, failed: 0, error: null });
      await expectError(
        call('GET', `/api/v1/assignment-jobs/${randomUUID()}`, { token: tokens.viewer }),
        404,
        'ASSIGNMENT_JOB_NOT_FOUND',
      );
      const again = await call('POST', '/api/v1/assignments', {
        token: tokens.operator,
        body: { agentId: 'news', target: { type: 'device', deviceId } },
      });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(assigned.body.id);
      expect(again.body.job).toBeNull();

      const doc = await desiredWhere('agents delivered', (d) => (d.spec.agents?.length ?? 0) === 1);
      expect(doc.spec.telemetry).toEqual({ intervalSec: 30 });
      expect(doc.spec.agents?.[0]).toMatchObject({ id: 'news', version: 2 });
      expect(doc.spec.providers).toHaveLength(1);
      const provider = doc.spec.providers?.[0];
      expect(provider).toMatchObject({ id: 'deepseek', version: 2, baseUrl: 'https://api.deepseek.com/v1' });
      expect(JSON.stringify(doc)).not.toContain('sk-e2e');
      expect(openSealed(provider!.apiKey!, boxKeys.privateKey)).toBe(API_KEY);
      // Sealed to this box only: another key pair cannot open it.
      expect(() => openSealed(provider!.apiKey!, generateKeyPairSync('x25519').privateKey)).toThrow();

      const stateVersion = (
        await call('GET', `/api/v1/devices/${deviceId}/desired`, { token: tokens.viewer })
      ).body.desired.version;
      expect(stateVersion).toBe(doc.version);
      const agent = await call('GET', '/api/v1/agents/news', { token: tokens.viewer });
      expect(agent.body.assignments).toEqual([
        expect.objectContaining({ id: assigned.body.id, target: { type: 'device', deviceId } }),
      ]);

      // An operator replacing the document keeps the agents composed from assignments.
      await call('PUT', `/api/v1/devices/${deviceId}/desired`, {
        token: tokens.operator,
        body: { spec: { telemetry: { intervalSec: 15 } } },
      });
      const replaced = await desiredWhere('telemetry changed', (d) => d.spec.telemetry?.intervalSec === 15);
      expect(replaced.spec.agents?.map((a) => a.id)).toEqual(['news']);

      await expectError(
        call('DELETE', '/api/v1/providers/deepseek', { token: tokens.admin }),
        409,
        'PROVIDER_IN_USE',
      );

      // A new key reaches the box sealed again; a provider edit that changes nothing for it publishes nothing.
      const rotated = await call('PATCH', '/api/v1/providers/deepseek', {
        token: tokens.admin,
        body: { apiKey: ROTATED_KEY },
      });
      expect(rotated.body).toMatchObject({ version: 3, hasApiKey: true });
      const rekeyed = await desiredWhere('new key', (d) => d.spec.providers?.[0]?.version === 3);
      expect(openSealed(rekeyed.spec.providers![0]!.apiKey!, boxKeys.privateKey)).toBe(ROTATED_KEY);
      const count = box.desired.length;
      await call('PATCH', '/api/v1/providers/ollama', {
        token: tokens.admin,
        body: { name: 'Local Ollama' },
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(box.desired.length).toBe(count);
    },
  );

  it.skipIf(skip)('follows tag assignments when the box is retagged', async () => {
    const created = await call('POST', '/api/v1/agents', {
      token: tokens.operator,
      body: agentBody('watcher', {
        model: { provider: 'ollama', model: 'qwen2.5' },
        budget: { tokensPerDay: 5_000 },
      }),
    });
    expect(created.status).toBe(201);
    const tagged = await call('POST', '/api/v1/assignments', {
      token: tokens.operator,
      body: { agentId: 'watcher', target: { type: 'tag', tag: 'lab' } },
    });
    expect(tagged.status).toBe(202);
    expect(tagged.body.job).toMatchObject({ total: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(box.desired.at(-1)?.spec.agents?.map((a) => a.id)).toEqual(['news']);

    await call('PATCH', `/api/v1/devices/${deviceId}`, { token: tokens.operator, body: { tags: ['lab'] } });
    const doc = await desiredWhere('tagged agent', (d) => (d.spec.agents?.length ?? 0) === 2);
    expect(doc.spec.agents?.map((a) => a.id)).toEqual(['news', 'watcher']);
    expect(doc.spec.providers?.map((p) => [p.id, p.apiKey === undefined])).toEqual([
      ['deepseek', false],
      ['ollama', true],
    ]);
  });

  it.skipIf(skip)('lists the agents a box should run and the ones it still reports', async () => {
    await box.publish('state', {
      desiredVersion: box.desired.at(-1)?.version ?? 0,
      current: {
        agents: {
          news: { version: 2, status: 'idle', queued: 0, tokensToday: 10 },
          retired: { version: 4, status: 'crash-looping', detail: 'exit 1' },
        },
      },
    });
    await waitFor('device.agents event', () =>
      live.some((e) => e.type === 'device.agents' && e.deviceId === deviceId),
    );
    const listed = await call('GET', `/api/v1/devices/${deviceId}/agents`, { token: tokens.viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.map((a: any) => DeviceAgentDtoSchema.parse(a))).toEqual([
      {
        agentId: 'news',
        name: 'Agent news',
        desiredVersion: 2,
        reported: expect.objectContaining({ status: 'idle', tokensToday: 10 }),
      },
      { agentId: 'watcher', name: 'Agent watcher', desiredVersion: 1, reported: null },
      {
        agentId: 'retired',
        name: 'retired',
        desiredVersion: null,
        reported: expect.objectContaining({ status: 'crash-looping' }),
      },
    ]);
    await expectError(
      call('GET', '/api/v1/devices/box-nobody/agents', { token: tokens.viewer }),
      404,
      'DEVICE_NOT_FOUND',
    );
  });

  const now = Date.now();
  const run = (overrides: Partial<RunRecord>): RunRecord => ({
    id: 'run-e2e-0001',
    agentId: 'news',
    agentVersion: 2,
    trigger: { type: 'message', detail: 'cmd-1' },
    status: 'running',
    input: 'hello',
    createdAt: now - 5_000,
    startedAt: now - 4_000,
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    ...overrides,
  });

  it.skipIf(skip)(
    'keeps the latest run status, never going back from a final one, and each step once',
    async () => {
      await box.publish('runs', { runs: [run({})] });
      await box.publish('runs', {
        runs: [
          run({
            status: 'succeeded',
            output: 'done',
            endedAt: now,
            steps: 2,
            usage: { inputTokens: 30, outputTokens: 12 },
          }),
        ],
      });
      await waitFor(
        'run succeeded',
        async () =>
          (await call('GET', '/api/v1/runs/run-e2e-0001', { token: tokens.viewer })).body.status ===
          'succeeded',
      );
      // A replay of the start from the box's spool arrives late.
      await box.publish('runs', { runs: [run({})] });
      const event = (index: number): RunEvent => ({
        runId: 'run-e2e-0001',
        agentId: 'news',
        index,
        ts: now - 3_000 + index,
        type: index === 1 ? 'tool-call' : 'model',
        name: index === 1 ? 'http.fetch' : 'deepseek-chat',
        // Any JSON value: a bare string (a final answer's text) must come back as that string.
        data: index === 2 ? 'the answer' : { n: index },
      });
      await box.publish('run-events', { events: [event(0), event(1)] });
      await box.publish('run-events', { events: [event(0), event(1), event(2)] });
      await waitFor(
        'three events',
        async () =>
          (await call('GET', '/api/v1/runs/run-e2e-0001', { token: tokens.viewer })).body.events.length === 3,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));

      const detail = RunDetailDtoSchema.parse(
        (await call('GET', '/api/v1/runs/run-e2e-0001', { token: tokens.viewer })).body,
      );
      expect(detail).toMatchObject({
        deviceId,
        status: 'succeeded',
        output: 'done',
        input: 'hello',
        steps: 2,
        usage: { inputTokens: 30, outputTokens: 12 },
        createdAt: new Date(now - 5_000).toISOString(),
        endedAt: new Date(now).toISOString(),
      });
      expect(detail.events.map((e) => [e.index, e.type, e.data])).toEqual([
        [0, 'model', { n: 0 }],
        [1, 'tool-call', { n: 1 }],
        [2, 'model', 'the answer'],
      ]);
      // Start and end may share a batch (then only the end is published); the late replay publishes nothing.
      const published = live.flatMap((e) =>
        e.type === 'run' && e.run.id === 'run-e2e-0001' ? [e.run.status] : [],
      );
      expect(published.at(-1)).toBe('succeeded');
      expect(published.indexOf('running')).toBeLessThanOrEqual(0);
      expect(published.filter((status) => status === 'succeeded')).toHaveLength(1);
      await expectError(
        call('GET', '/api/v1/runs/run-nobody-00', { token: tokens.viewer }),
        404,
        'RUN_NOT_FOUND',
      );

      await box.publish('runs', {
        runs: [
          run({
            id: 'run-e2e-0002',
            agentId: 'watcher',
            agentVersion: 1,
            status: 'failed',
            createdAt: now - 2_000,
            error: 'boom',
          }),
          run({ id: 'run-e2e-0003', status: 'running', createdAt: now - 1_000 }),
        ],
      });
      await waitFor(
        'three runs',
        async () => (await call('GET', '/api/v1/runs', { token: tokens.viewer })).body.length === 3,
      );
      const ids = async (query: string) =>
        (await call('GET', `/api/v1/runs${query}`, { token: tokens.viewer })).body.map((r: any) => r.id);
      expect(await ids('')).toEqual(['run-e2e-0003', 'run-e2e-0002', 'run-e2e-0001']);
      expect(await ids('?agentId=news')).toEqual(['run-e2e-0003', 'run-e2e-0001']);
      expect(await ids('?status=failed')).toEqual(['run-e2e-0002']);
      expect(await ids(`?deviceId=${deviceId}&limit=1`)).toEqual(['run-e2e-0003']);
      expect(await ids(`?before=${encodeURIComponent(new Date(now - 1_000).toISOString())}`)).toEqual([
        'run-e2e-0002',
        'run-e2e-0001',
      ]);
      expect(await ids(`?deviceId=${idleDeviceId}`)).toEqual([]);
      await expectError(
        call('GET', '/api/v1/runs?limit=500', { token: tokens.viewer }),
        400,
        'VALIDATION_FAILED',
      );
    },
  );

  it.skipIf(skip)(
    'counts each usage record once and aggregates by bucket and group in the database',
    async () => {
      const dayStart = now - (now % DAY_MS);
      const yesterday = dayStart - DAY_MS + 3_600_000; // 01:00 UTC yesterday
      const usage = (
        id: string,
        ts: number,
        agentId: string,
        model: string,
        input: number,
        output: number,
        estimated = false,
      ): UsageRecord => ({
        id,
        agentId,
        provider: agentId === 'news' ? 'deepseek' : 'ollama',
        model,
        ts,
        inputTokens: input,
        outputTokens: output,
        estimated,
        outcome: 'ok',
      });
      const records = [
        usage('usage-e2e-0001', yesterday, 'news', 'deepseek-chat', 100, 10),
        usage('usage-e2e-0002', yesterday + 60_000, 'news', 'deepseek-chat', 200, 20),
        usage('usage-e2e-0003', yesterday + 3_600_000, 'watcher', 'qwen2.5', 50, 5, true),
        usage('usage-e2e-0004', dayStart + 1_000, 'news', 'deepseek-reasoner', 1_000, 100),
      ];
      await box.publish('usage', { records: records.slice(0, 2) });
      await box.publish('usage', { records });
      // The whole message replayed: nothing counts twice.
      await box.publish('usage', { records });
      await waitFor('usage stored', async () => {
        const totals = (
          await call('GET', `/api/v1/usage?from=${new Date(dayStart - 2 * DAY_MS).toISOString()}`, {
            token: tokens.viewer,
          })
        ).body.totals;
        return totals.inputTokens === 1_350 || undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));

      const from = new Date(dayStart - DAY_MS).toISOString();
      const to = new Date(dayStart + DAY_MS).toISOString();
      const byAgent = UsageResponseSchema.parse(
        (
          await call('GET', `/api/v1/usage?from=${from}&to=${to}&bucket=day&groupBy=agent`, {
            token: tokens.viewer,
          })
        ).body,
      );
      expect(byAgent.totals).toEqual({ inputTokens: 1_350, outputTokens: 135, estimatedRecords: 1 });
      expect(byAgent.series).toEqual([
        {
          key: 'news',
          points: [
            { start: from, inputTokens: 300, outputTokens: 30 },
            { start: new Date(dayStart).toISOString(), inputTokens: 1_000, outputTokens: 100 },
          ],
        },
        {
          key: 'watcher',
          points: [
            { start: from, inputTokens: 50, outputTokens: 5 },
            { start: new Date(dayStart).toISOString(), inputTokens: 0, outputTokens: 0 },
          ],
        },
      ]);

      const hourly = UsageResponseSchema.parse(
        (
          await call(
            'GET',
            `/api/v1/usage?from=${from}&to=${new Date(dayStart).toISOString()}&bucket=hour&groupBy=model&agentId=news`,
            { token: tokens.viewer },
          )
        ).body,
      );
      expect(hourly.series.map((s) => s.key)).toEqual(['deepseek-chat']);
      expect(hourly.series[0]?.points).toHaveLength(24);
      expect(hourly.series[0]?.points[1]).toEqual({
        start: new Date(yesterday).toISOString(),
        inputTokens: 300,
        outputTokens: 30,
      });
      const all = (
        await call('GET', `/api/v1/usage?from=${from}&to=${to}&groupBy=provider&deviceId=${deviceId}`, {
          token: tokens.viewer,
        })
      ).body;
      expect(
        all.series.map((s: any) => [s.key, s.points.reduce((n: number, p: any) => n + p.inputTokens, 0)]),
      ).toEqual([
        ['deepseek', 1_300],
        ['ollama', 50],
      ]);
      const none = (
        await call('GET', `/api/v1/usage?from=${from}&to=${to}&deviceId=${idleDeviceId}`, {
          token: tokens.viewer,
        })
      ).body;
      expect(none.series).toEqual([{ key: 'all', points: expect.any(Array) }]);
      expect(none.totals).toEqual({ inputTokens: 0, outputTokens: 0, estimatedRecords: 0 });
      await expectError(
        call('GET', `/api/v1/usage?from=${to}&to=${from}`, { token: tokens.viewer }),
        400,
        'VALIDATION_FAILED',
      );
      await expectError(
        call('GET', '/api/v1/usage?groupBy=planet', { token: tokens.viewer }),
        400,
        'VALIDATION_FAILED',
      );

      const summary = UsageSummarySchema.parse(
        (await call('GET', '/api/v1/usage/summary', { token: tokens.viewer })).body,
      );
      expect(summary.today).toEqual({ inputTokens: 1_000, outputTokens: 100 });
      expect(summary.week).toEqual({ inputTokens: 1_350, outputTokens: 135 });
      // news (200 000) and watcher (5 000) on the one box they are assigned to.
      expect(summary.budgetPerDay).toBe(205_000);
      expect(summary.topAgents).toEqual([
        { agentId: 'news', tokens: 1_430 },
        { agentId: 'watcher', tokens: 55 },
      ]);
      expect(summary.topDevices).toEqual([{ deviceId, tokens: 1_485 }]);
      const usageEvents = live.flatMap((e) => (e.type === 'usage' ? e.records.map((r) => r.id) : []));
      expect(usageEvents.sort()).toEqual(records.map((r) => r.id).sort());
    },
  );

  it.skipIf(skip)('sends tasks as MQTT 5 requests and answers with the box result', async () => {
    answers.set('go', { status: 'succeeded', output: { runId: 'run-task-0001' } });
    answers.set('refuse', { status: 'rejected', error: 'agent busy' });
    answers.set('ignore', { status: 'silent' });
    const sendTask = (token: string, body: { deviceId: string; input: string }, agentId = 'news') =>
      call('POST', `/api/v1/agents/${agentId}/tasks`, { token, body });
    await expectError(sendTask(tokens.viewer, { deviceId, input: 'go' }), 403, 'FORBIDDEN');
    await expectError(sendTask(tokens.operator, { deviceId, input: '' }), 400, 'VALIDATION_FAILED');
    const accepted = await sendTask(tokens.operator, { deviceId, input: 'go' });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ runId: 'run-task-0001', commandId: expect.stringMatching(/^cmd-/) });
    const sent = sentCommand(box.commands.find((c) => c.command.id === accepted.body.commandId));
    expect(sent).toMatchObject({
      command: { name: 'agent.run', args: { agentId: 'news', input: 'go' } },
      responseTopic: topics.result(deviceId, accepted.body.commandId),
      correlation: accepted.body.commandId,
    });
    // The run view opens at once: the run is there, queued, before the box's own report arrives.
    const queued = await call('GET', '/api/v1/runs/run-task-0001', { token: tokens.viewer });
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({
      id: 'run-task-0001',
      deviceId,
      agentId: 'news',
      status: 'queued',
      input: 'go',
      trigger: { type: 'message', detail: accepted.body.commandId },
      events: [],
    });
    // The box's report replaces it.
    await box.publish('runs', {
      runs: [run({ id: 'run-task-0001', input: 'go', trigger: { type: 'message', detail: 'x' } })],
    });
    await waitFor(
      'the box reported the run',
      async () =>
        (await call('GET', '/api/v1/runs/run-task-0001', { token: tokens.viewer })).body.status === 'running',
    );

    const refused = await expectError(
      sendTask(tokens.operator, { deviceId, input: 'refuse' }),
      409,
      'TASK_REJECTED',
    );
    expect(refused.body.message).toContain('agent busy');
    await expectError(sendTask(tokens.operator, { deviceId, input: 'ignore' }), 504, 'TASK_TIMEOUT');
    await expectError(
      sendTask(tokens.operator, { deviceId: idleDeviceId, input: 'go' }),
      409,
      'DEVICE_OFFLINE',
    );
    await expectError(sendTask(tokens.operator, { deviceId, input: 'go' }, 'ghost'), 404, 'AGENT_NOT_FOUND');
  });

  it.skipIf(skip)('removes agents from boxes when assignments or agents are deleted', async () => {
    const assignments = (await call('GET', '/api/v1/assignments', { token: tokens.viewer })).body as any[];
    const tagAssignment = assignments.find((a) => a.agentId === 'watcher');
    await expectError(
      call('DELETE', `/api/v1/assignments/${tagAssignment.id}`, { token: tokens.viewer }),
      403,
      'FORBIDDEN',
    );
    expect(
      (await call('DELETE', `/api/v1/assignments/${tagAssignment.id}`, { token: tokens.operator })).status,
    ).toBe(204);
    await expectError(
      call('DELETE', `/api/v1/assignments/${tagAssignment.id}`, { token: tokens.operator }),
      404,
      'ASSIGNMENT_NOT_FOUND',
    );
    const doc = await desiredWhere('watcher removed', (d) => d.spec.agents?.length === 1);
    expect(doc.spec.agents?.map((a) => a.id)).toEqual(['news']);
    expect(doc.spec.providers?.map((p) => p.id)).toEqual(['deepseek']);

    expect((await call('DELETE', '/api/v1/agents/news', { token: tokens.operator })).status).toBe(204);
    const empty = await desiredWhere('no agents', (d) => d.spec.agents?.length === 0);
    expect(empty.spec.providers).toEqual([]);
    expect(empty.spec.telemetry).toEqual({ intervalSec: 15 });
    expect((await call('GET', '/api/v1/assignments', { token: tokens.viewer })).body).toEqual([]);
    await expectError(call('GET', '/api/v1/agents/news', { token: tokens.viewer }), 404, 'AGENT_NOT_FOUND');
    expect((await call('DELETE', '/api/v1/providers/deepseek', { token: tokens.admin })).status).toBe(204);
    await expectError(
      call('DELETE', '/api/v1/providers/deepseek', { token: tokens.admin }),
      404,
      'PROVIDER_NOT_FOUND',
    );
  });
});
