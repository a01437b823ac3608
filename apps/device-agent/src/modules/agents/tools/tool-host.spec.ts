import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { DesiredAgentSchema, type ToolGrant } from '@agentbox/schemas';
import type { InstalledAgent } from '../agents.contracts.js';
import { openAgentStores, type AgentStores } from '../store/agent-stores.js';
import { agentFilesDir } from './files-tool.js';
import { isHostAllowed } from './http-fetch-tool.js';
import { ToolHost } from './tool-host.js';

function agentWith(tools: unknown[], id = 'watcher'): InstalledAgent {
  return DesiredAgentSchema.parse({
    id,
    version: 1,
    definition: { name: 'W', instructions: 'watch', model: { provider: 'p', model: 'm' }, tools },
  });
}

describe('ToolHost', () => {
  const dir = useTempDir('tool-host-');
  let stores: AgentStores;
  let published: [string, unknown][];
  let notified: [string, unknown][];
  let sut: ToolHost;
  let server: Server;
  let port: number;
  let hits: string[];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      if (req.url === '/big') return res.end('x'.repeat(10_000));
      if (req.url === '/to-allowed') return res.writeHead(302, { location: '/hello' }).end();
      if (req.url === '/to-elsewhere')
        return res.writeHead(302, { location: 'http://forbidden.test/x' }).end();
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => res.end(`got ${body}`));
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    stores = openAgentStores(join(dir.path, 'state'));
    published = [];
    notified = [];
    hits = [];
    sut = new ToolHost({
      stateDir: join(dir.path, 'state'),
      memory: stores.memory,
      publish: (agentId, payload) => void published.push([agentId, payload]),
      notify: (agentId, notification) => void notified.push([agentId, notification]),
    });
  });

  afterEach(() => {
    stores.close();
  });

  const call = (agent: InstalledAgent, name: string, input: unknown) =>
    sut.execute({ agent, runId: 'run-00000001' }, { id: 'c1', name, input });

  it('offers granted tools under function names and maps them back', async () => {
    const agent = agentWith([
      { tool: 'memory' },
      { tool: 'files.read' },
      { tool: 'http.fetch', allowHosts: ['*.example.com'] },
    ]);
    const specs = sut.specsFor(agent.definition);

    expect(specs.map((s) => s.name)).toEqual(['memory', 'files_read', 'http_fetch']);
    for (const spec of specs) expect(spec.name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/);
    expect(specs[2]!.description).toContain('*.example.com');
    expect(await call(agent, 'memory', { op: 'set', key: 'k', value: 'v' })).toEqual({
      ok: true,
      output: { key: 'k', stored: true },
    });
    expect(await call(agent, 'memory', { op: 'get', key: 'k' })).toEqual({
      ok: true,
      output: { key: 'k', value: 'v' },
    });
    expect(await call(agent, 'memory', { op: 'list' })).toEqual({ ok: true, output: { keys: ['k'] } });
  });

  it('refuses tools not granted, unknown tools and bad input, without throwing', async () => {
    const agent = agentWith([{ tool: 'memory' }]);
    expect(await call(agent, 'files_write', { path: 'a', content: 'b' })).toEqual({
      ok: false,
      error: 'the tool files.write is not granted to this agent',
    });
    expect(await call(agent, 'shell_exec', {})).toEqual({
      ok: false,
      error: 'there is no tool named shell_exec',
    });
    const bad = await call(agent, 'memory', { op: 'explode' });
    expect(bad.ok).toBe(false);
    expect(bad).toMatchObject({ error: expect.stringContaining('invalid input for memory') });
  });

  it('publishes and notifies through the injected callbacks', async () => {
    const agent = agentWith([{ tool: 'mqtt.publish' }, { tool: 'notify' }]);
    expect(await call(agent, 'mqtt_publish', { payload: { temp: 21 } })).toEqual({
      ok: true,
      output: { published: true },
    });
    expect(await call(agent, 'notify', { message: 'door open', level: 'warning' })).toEqual({
      ok: true,
      output: { notified: true },
    });
    expect(published).toEqual([['watcher', { temp: 21 }]]);
    expect(notified).toEqual([['watcher', { message: 'door open', level: 'warning' }]]);
    const tooBig = await call(agent, 'mqtt_publish', { payload: 'x'.repeat(70_000) });
    expect(tooBig).toMatchObject({ ok: false, error: expect.stringContaining('at most 65536') });
  });

  describe('files', () => {
    const agent = agentWith([
      { tool: 'files.read', maxBytes: 100 },
      { tool: 'files.write', maxBytes: 100 },
    ]);

    it('writes and reads inside the agent directory, subdirectories included', async () => {
      expect(await call(agent, 'files_write', { path: 'notes/today.md', content: 'hi' })).toEqual({
        ok: true,
        output: { path: 'notes/today.md', bytes: 2 },
      });
      expect(
        readFileSync(join(agentFilesDir(join(dir.path, 'state'), 'watcher'), 'notes/today.md'), 'utf8'),
      ).toBe('hi');
      expect(await call(agent, 'files_read', { path: 'notes/today.md' })).toEqual({
        ok: true,
        output: { path: 'notes/today.md', content: 'hi', size: 2, truncated: false },
      });
      expect(await call(agent, 'files_read', { path: '.' })).toEqual({
        ok: true,
        output: { path: '.', entries: [{ name: 'notes', type: 'directory' }] },
      });
    });

    it('caps sizes', async () => {
      expect(await call(agent, 'files_write', { path: 'big', content: 'x'.repeat(101) })).toMatchObject({
        ok: false,
        error: expect.stringContaining('at most 100'),
      });
      const root = agentFilesDir(join(dir.path, 'state'), 'watcher');
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, 'large'), 'y'.repeat(500));
      expect(await call(agent, 'files_read', { path: 'large' })).toMatchObject({
        ok: true,
        output: { size: 500, truncated: true, content: 'y'.repeat(100) },
      });
    });

    it('refuses ../, absolute paths and symlinks that lead outside', async () => {
      const secret = join(dir.path, 'secret.txt');
      writeFileSync(secret, 'top secret');
      const root = agentFilesDir(join(dir.path, 'state'), 'watcher');
      mkdirSync(root, { recursive: true });
      symlinkSync(secret, join(root, 'link'));
      symlinkSync(dir.path, join(root, 'dirlink'));

      const attempts = [
        ['files_read', { path: '../../../../secret.txt' }, /".."/],
        ['files_read', { path: 'a/../../x' }, /".."/],
        ['files_write', { path: '../escape.txt', content: 'x' }, /".."/],
        ['files_read', { path: secret }, /absolute paths are refused/],
        ['files_write', { path: '/tmp/escape.txt', content: 'x' }, /absolute paths are refused/],
        ['files_read', { path: 'link' }, /leads outside/],
        ['files_read', { path: 'dirlink/secret.txt' }, /leads outside/],
        ['files_write', { path: 'link', content: 'overwritten' }, /symbolic link/],
        ['files_write', { path: 'dirlink/new.txt', content: 'x' }, /leads outside/],
        ['files_write', { path: 'dirlink/sub/new.txt', content: 'x' }, /leads outside/],
      ] as const;
      for (const [tool, input, error] of attempts) {
        const outcome = await call(agent, tool, input);
        expect(outcome, `${tool} ${JSON.stringify(input)}`).toMatchObject({
          ok: false,
          error: expect.stringMatching(error),
        });
      }
      expect(readFileSync(secret, 'utf8')).toBe('top secret');
      expect(existsSync(join(dir.path, 'new.txt'))).toBe(false);
      expect(existsSync(join(dir.path, 'sub'))).toBe(false);
      expect(existsSync(join(dir.path, 'escape.txt'))).toBe(false);
    });
  });

  describe('http.fetch', () => {
    const grant = (extra: Partial<Extract<ToolGrant, { tool: 'http.fetch' }>> = {}) => ({
      tool: 'http.fetch',
      allowHosts: [`127.0.0.1:${port}`],
      ...extra,
    });

    it('matches hosts, wildcards and ports', () => {
      const allow = ['api.example.com', '*.example.org', 'local.test:8080'];
      expect(isHostAllowed(new URL('https://api.example.com/x'), allow)).toBe(true);
      expect(isHostAllowed(new URL('https://API.example.com/x'), allow)).toBe(true);
      expect(isHostAllowed(new URL('https://api.example.com:8443/x'), allow)).toBe(false);
      expect(isHostAllowed(new URL('https://evil-api.example.com/x'), allow)).toBe(false);
      expect(isHostAllowed(new URL('https://a.b.example.org/x'), allow)).toBe(true);
      expect(isHostAllowed(new URL('https://example.org/x'), allow)).toBe(false);
      expect(isHostAllowed(new URL('https://example.org.evil.com/x'), allow)).toBe(false);
      expect(isHostAllowed(new URL('http://local.test:8080/x'), allow)).toBe(true);
      expect(isHostAllowed(new URL('http://local.test/x'), allow)).toBe(false);
    });

    it('GETs and POSTs to an allowed host', async () => {
      const agent = agentWith([grant()]);
      expect(await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/hello` })).toEqual({
        ok: true,
        output: {
          status: 200,
          url: `http://127.0.0.1:${port}/hello`,
          contentType: 'text/plain',
          body: 'hello',
          truncated: false,
        },
      });
      expect(
        await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/p`, method: 'POST', body: 'data' }),
      ).toMatchObject({
        ok: true,
        output: { body: 'got data' },
      });
    });

    it('refuses hosts not in the allow-list, without sending anything', async () => {
      const agent = agentWith([grant({ allowHosts: ['*.example.com'] })]);
      const outcome = await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/hello` });
      expect(outcome).toEqual({
        ok: false,
        error: `127.0.0.1:${port} is not an allowed host (allowed: *.example.com)`,
      });
      expect(await call(agent, 'http_fetch', { url: 'file:///etc/passwd' })).toMatchObject({ ok: false });
      expect(hits).toEqual([]);
    });

    it('follows redirects only to allowed hosts', async () => {
      const agent = agentWith([grant()]);
      expect(await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/to-allowed` })).toMatchObject({
        ok: true,
        output: { body: 'hello', url: `http://127.0.0.1:${port}/hello` },
      });
      expect(await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/to-elsewhere` })).toEqual({
        ok: false,
        error: `redirect to forbidden.test is not an allowed host (allowed: 127.0.0.1:${port})`,
      });
    });

    it('caps size and time', async () => {
      const agent = agentWith([grant({ maxBytes: 1_000, timeoutMs: 300 })]);
      expect(await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/big` })).toMatchObject({
        ok: true,
        output: { body: 'x'.repeat(1_000), truncated: true },
      });
      const started = Date.now();
      expect(await call(agent, 'http_fetch', { url: `http://127.0.0.1:${port}/slow` })).toEqual({
        ok: false,
        error: `no complete answer from 127.0.0.1:${port} within 300 ms`,
      });
      expect(Date.now() - started).toBeLessThan(1_500);
    });
  });
});
