import { createServer, request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@agentbox/test-support';
import type { RunTrigger, TriggerOutcome } from '../agents.contracts.js';
import { WEBHOOK_MAX_BODY_BYTES, WebhookServer } from './webhook-server.js';
import { agentWithTriggers } from '../../../../test/support/agent-fixtures.js';

const agent = agentWithTriggers;

const agents = new Map([
  ['hooked', agent('hooked', [{ type: 'webhook' }])],
  ['busy', agent('busy', [{ type: 'webhook' }])],
  ['console-only', agent('console-only', [{ type: 'message' }])],
]);

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

describe('WebhookServer', () => {
  const fired: { agentId: string; trigger: RunTrigger; input: string | undefined }[] = [];
  let sut: WebhookServer | undefined;

  afterEach(async () => {
    await sut?.stop();
    fired.length = 0;
  });

  async function start(): Promise<string> {
    sut = new WebhookServer({
      port: await freePort(),
      findAgent: (id) => agents.get(id),
      fire: (agentId, trigger, input): TriggerOutcome => {
        fired.push({ agentId, trigger, input });
        return agentId === 'busy'
          ? { accepted: false, reason: 'agent busy is running and rejects new runs (onBusy: reject)' }
          : { accepted: true, runId: 'run-0123456789', queued: false };
      },
      logger: { warn: () => undefined },
    });
    const port = await sut.start();
    return `http://127.0.0.1:${port}`;
  }

  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('takes a free port when the default one is taken, and says so in its URL; never an explicit one', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    const warnings: string[] = [];
    const options = {
      port,
      findAgent: (id: string) => agents.get(id),
      fire: (): TriggerOutcome => ({ accepted: true, runId: 'run-0123456789', queued: false }),
      logger: { warn: (message: string) => void warnings.push(message) },
    };
    try {
      await expect(new WebhookServer(options).start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      sut = new WebhookServer({ ...options, fallbackToFreePort: true });
      const actual = await sut.start();
      expect(actual).not.toBe(port);
      expect(sut.url).toBe(`http://127.0.0.1:${actual}/agents/{agentId}/runs`);
      expect(warnings).toHaveLength(1);
      const res = await post(`http://127.0.0.1:${actual}/agents/hooked/runs`, JSON.stringify({ input: 'x' }));
      expect(res.status).toBe(202);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('starts a run: 202 {runId}', async () => {
    const base = await start();
    const res = await post(`${base}/agents/hooked/runs`, JSON.stringify({ input: 'disk is 91% full' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ runId: 'run-0123456789', queued: false });
    expect(fired).toEqual([
      {
        agentId: 'hooked',
        trigger: { type: 'webhook', detail: 'POST /agents/{agentId}/runs' },
        input: 'disk is 91% full',
      },
    ]);
  });

  it('answers 404 for unknown agents and agents without a webhook trigger, 409 with the reason when refused', async () => {
    const base = await start();
    const body = JSON.stringify({ input: 'x' });
    expect((await post(`${base}/agents/nobody/runs`, body)).status).toBe(404);
    const noHook = await post(`${base}/agents/console-only/runs`, body);
    expect(noHook.status).toBe(404);
    expect(await noHook.json()).toEqual({ error: 'agent console-only has no webhook trigger' });
    expect((await post(`${base}/agents/..%2F..%2Fetc/runs`, body)).status).toBe(404);
    const busy = await post(`${base}/agents/busy/runs`, body);
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({
      reason: 'agent busy is running and rejects new runs (onBusy: reject)',
    });
    expect(fired.map((f) => f.agentId)).toEqual(['busy']);
  });

  it('answers 400 for a bad body, 405 for other methods, 413 above the cap', async () => {
    const base = await start();
    expect((await post(`${base}/agents/hooked/runs`, 'not json')).status).toBe(400);
    expect((await post(`${base}/agents/hooked/runs`, JSON.stringify({ input: '' }))).status).toBe(400);
    expect((await post(`${base}/agents/hooked/runs`, JSON.stringify({ prompt: 'x' }))).status).toBe(400);
    expect((await fetch(`${base}/agents/hooked/runs`)).status).toBe(405);
    const big = JSON.stringify({ input: 'x'.repeat(WEBHOOK_MAX_BODY_BYTES) });
    expect((await post(`${base}/agents/hooked/runs`, big)).status).toBe(413);
    // Without a content-length (chunked), the cap holds as well.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/agents/hooked/runs`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(8 * 1024));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(fired).toEqual([]);
  });

  it('listens on the loopback address only', async () => {
    await start();
    const port = sut!.port!;
    const address = nonLoopbackAddress();
    if (address === undefined) {
      // No other interface on this machine: the bound address is still checked below.
      expect(address).toBeUndefined();
    } else {
      await expect(
        fetch(`http://${address}:${port}/agents/hooked/runs`, { method: 'POST', body: '{"input":"x"}' }),
      ).rejects.toThrow();
    }
    const res = await post(`http://127.0.0.1:${port}/agents/hooked/runs`, '{"input":"x"}');
    expect(res.status).toBe(202);
  });
});
