import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startOpenAiTestServer,
  waitFor,
  type OpenAiTestServer,
  type RecordedRequest,
} from '@agentbox/test-support';
import type { HookCreatedDto, HookDeliveryListResponse, RunDetailDto } from '@agentbox/schemas';
import {
  EXAMPLE_HOOK_BODY,
  hookBearerCommand,
  hookSignedCommand,
} from '../../apps/console/src/utils/hook-commands.js';
import { Platform } from '../support/platform.js';
import { stacks } from '../support/stacks.js';

const run = promisify(execFile);
const API_KEY = 'sk-e2e-hooks-0123456789abcdef';

/** The model's answer names the input it was given, so a run's output shows which call it served. */
function answer(request: RecordedRequest) {
  const users = (request.body?.messages ?? []).filter((message) => message.role === 'user');
  const content = users.at(-1)?.content;
  const text = typeof content === 'string' ? content : '';
  return { kind: 'text' as const, text: `handled ${text.length} characters: ${text.slice(0, 200)}` };
}

/**
 * Webhooks end to end: callers reach the real fleet service over HTTP, the service relays each call to a
 * real device agent over MQTT, and the agent's run asks the OpenAI-compatible test server. The box is
 * stopped to see calls wait for it and expire, and the console's example commands run as shown.
 */
describe.each(stacks)('webhooks relayed to agents on real boxes, $name', (stack) => {
  let platform: Platform;
  let teardown: () => Promise<void> = () => Promise.resolve();
  let model: OpenAiTestServer;
  let boxId: string;
  let hook: HookCreatedDto;

  const api = () => platform.api;
  async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await api().request<T>(method, path, body);
    if (response.status >= 300) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  }
  /** A call from outside: no console login, the hook's secret only. */
  async function invoke(id: string, secret: string, body: unknown, query = '') {
    const response = await fetch(`${platform.fleet.url}/api/v1/hooks/${id}/invoke${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
  async function runEnded(id: string, timeoutMs = 30_000): Promise<RunDetailDto> {
    return waitFor(
      `run ${id} ended`,
      async () => {
        const detail = await api().request<RunDetailDto>('GET', `/api/v1/runs/${id}`);
        return detail.status === 200 && !['queued', 'running'].includes(detail.body.status)
          ? detail.body
          : undefined;
      },
      { timeoutMs },
    );
  }
  const deliveries = (id: string) =>
    send<HookDeliveryListResponse>('GET', `/api/v1/hooks/${id}/deliveries`).then((list) => list.items);

  beforeAll(async () => {
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: ['test-model'] });
    model.setResponder(answer);
    const setup = await stack.setup();
    teardown = () => setup.teardown();
    platform = new Platform({ ...setup.env, AGENTBOX_HOOK_SWEEP_MS: '200' });
    await platform.start();
    const claim = await platform.api.createClaimToken({ maxUses: 1 });
    platform.startAgent('hook-box', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    boxId = (await platform.waitForDevice((d) => d.name === 'hook-box' && d.online, 'hook-box online')).id;
    await send('POST', '/api/v1/providers', {
      id: 'local',
      name: 'Test model server',
      baseUrl: model.url,
      models: ['test-model'],
      apiKey: API_KEY,
    });
    await send('POST', '/api/v1/agents', {
      id: 'triage',
      definition: {
        name: 'Triage',
        instructions: 'Triage the ticket you are given.',
        model: { provider: 'local', model: 'test-model' },
      },
    });
    await send('POST', '/api/v1/assignments', {
      agentId: 'triage',
      target: { type: 'device', deviceId: boxId },
    });
    await waitFor('the box runs triage', async () => {
      const agents = await send<
        Array<{ agentId: string; reported?: { version: number } | null; desiredVersion: number | null }>
      >('GET', `/api/v1/devices/${boxId}/agents`);
      const triage = agents.find((agent) => agent.agentId === 'triage');
      return triage?.reported && triage.reported.version === triage.desiredVersion;
    });
    hook = await send<HookCreatedDto>('POST', '/api/v1/hooks', {
      name: 'Ticketing',
      agentId: 'triage',
      deviceId: boxId,
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await model?.close();
    await teardown();
  });

  it('answers with the agent output when asked to wait', async () => {
    const response = await invoke(hook.id, hook.secret, { ticket: 101, text: 'printer on fire' }, '?wait=30');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ status: 'succeeded', error: null });
    expect(response.body.output).toContain('printer on fire');
    const detail = await runEnded(String(response.body.runId));
    expect(detail.input).toBe('{"ticket":101,"text":"printer on fire"}');
    expect(detail.deviceId).toBe(boxId);
  });

  it('returns a run id at once without wait, and that run succeeds', async () => {
    const response = await invoke(hook.id, hook.secret, { ticket: 102 });
    expect(response.status).toBe(202);
    const detail = await runEnded(String(response.body.runId));
    expect(detail.status).toBe('succeeded');
    expect(detail.output).toContain('"ticket":102');
  });

  it("runs the console's example commands as shown: curl with the bearer secret, and the signed call", async () => {
    const shell = async (script: string) => {
      const { stdout } = await run('sh', ['-c', script], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      return JSON.parse(stdout) as { status: string; output: string; runId: string };
    };
    const bearer = await shell(hookBearerCommand(hook.url, hook.secret));
    expect(bearer).toMatchObject({ status: 'succeeded' });
    expect(bearer.output).toContain('Hello from a webhook');
    const signed = await shell(hookSignedCommand(hook.url, hook.secret));
    expect(signed).toMatchObject({ status: 'succeeded' });
    expect((await runEnded(signed.runId)).input).toBe(EXAMPLE_HOOK_BODY);
  });

  it('queues a call while the box is stopped and delivers it once the box is back; an overdue one expires', async () => {
    const expiring = await send<HookCreatedDto>('POST', '/api/v1/hooks', {
      name: 'Short-lived',
      agentId: 'triage',
      deviceId: boxId,
      deliveryTtlSec: 1,
    });
    await platform.agent('hook-box').kill('SIGTERM');
    await platform.waitForDevice((d) => d.id === boxId && !d.online, 'hook-box offline');

    const queued = await invoke(hook.id, hook.secret, { ticket: 103, text: 'while away' });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ status: 'queued', deliveryId: expect.any(String) });
    const doomed = await invoke(expiring.id, expiring.secret, { ticket: 104 });
    expect(doomed.body).toMatchObject({ status: 'queued' });
    const expired = await waitFor('the short-lived call expired', async () => {
      const [item] = await deliveries(expiring.id);
      return item?.status === 'expired' ? item : undefined;
    });
    expect(expired.error).toMatch(/expired/);
    expect((await deliveries(hook.id)).map((item) => item.status)).toEqual(['queued']);

    platform.startAgent('hook-box', undefined, { AGENTBOX_WEBHOOK_PORT: '0' });
    const delivered = await waitFor(
      'the queued call delivered',
      async () => {
        const [item] = await deliveries(hook.id);
        return item?.status === 'delivered' ? item : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(delivered.id).toBe(queued.body.deliveryId);
    const detail = await runEnded(delivered.runId!);
    expect(detail.status).toBe('succeeded');
    expect(detail.output).toContain('while away');
    // The expired one stays expired: it is never delivered late.
    expect((await deliveries(expiring.id)).map((item) => item.status)).toEqual(['expired']);
    const listed = await send<{ items: Array<{ id: string; deliveries: Record<string, number> }> }>(
      'GET',
      '/api/v1/hooks',
    );
    expect(listed.items.find((item) => item.id === expiring.id)?.deliveries).toMatchObject({ expired: 1 });
    expect(listed.items.find((item) => item.id === hook.id)?.deliveries).toMatchObject({
      delivered: 1,
      queued: 0,
    });
  });
});
