import { readFile } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, useReleaseWorkspace } from '../../test/release-cli-workspace.js';

describe('agentbox-release upload', () => {
  const ws = useReleaseWorkspace({ keys: ['root', 'release'], roots: 1, releases: ['1.5.0'] });
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** `upload` of release 1.5.0 to `url` with an admin's login token. */
  const uploadWithToken = (url: string) =>
    cli(
      'upload',
      '--url',
      url,
      '--token',
      'admin-token-1234567890',
      '--manifest',
      ws.manifest('1.5.0'),
      '--bundle',
      ws.bundle('1.5.0'),
    );

  /** A stand-in fleet service on a free loopback port; returns its URL. */
  async function fleetService(listener: RequestListener): Promise<string> {
    const started = createServer(listener);
    server = started;
    await new Promise<void>((done) => started.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  }

  it('uploads the manifest, then streams the bundle, with the bearer token', async () => {
    const seen: { method?: string; url?: string; auth?: string; type?: string; body: Buffer }[] = [];
    let existing = false;
    const url = await fleetService((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({
          method: request.method,
          url: request.url,
          auth: request.headers.authorization,
          type: request.headers['content-type'],
          body: Buffer.concat(chunks),
        });
        response.setHeader('content-type', 'application/json');
        if (request.method === 'POST' && existing) {
          response.statusCode = 409;
          response.end(JSON.stringify({ code: 'RELEASE_EXISTS', message: 'Release 1.5.0 exists' }));
          return;
        }
        response.statusCode = request.method === 'POST' ? 201 : 200;
        response.end(JSON.stringify({ id: 'rel_1', version: '1.5.0', status: 'ready' }));
      });
    });
    const manifest = ws.manifest('1.5.0');
    const bundle = ws.bundle('1.5.0');
    const sut = await uploadWithToken(`${url}/`);
    expect(sut.err).toBe('');
    expect(sut.out).toContain('is ready');
    expect(seen.map((item) => [item.method, item.url, item.auth, item.type])).toEqual([
      ['POST', '/api/v1/releases', 'Bearer admin-token-1234567890', 'application/json'],
      ['PUT', '/api/v1/releases/rel_1/artifact', 'Bearer admin-token-1234567890', 'application/octet-stream'],
    ]);
    expect(JSON.parse(seen[0]!.body.toString())).toEqual(JSON.parse(await readFile(manifest, 'utf8')));
    expect(seen[1]!.body.equals(await readFile(bundle))).toBe(true);

    existing = true;
    const again = await uploadWithToken(url);
    expect(again.code).toBe(1);
    expect(again.err).toContain('RELEASE_EXISTS');
    expect(again.err).toContain('build a new version');
  });

  it('refuses an answer to the manifest that is not JSON, and sends no bundle', async () => {
    const methods: (string | undefined)[] = [];
    const url = await fleetService((request, response) => {
      methods.push(request.method);
      request.resume();
      request.on('end', () => {
        response.statusCode = 201;
        response.setHeader('content-type', 'text/html');
        response.end('<html>a web server, not the fleet service</html>');
      });
    });
    const sut = await uploadWithToken(url);
    expect(sut.code).toBe(1);
    expect(sut.err).toContain('its answer is not JSON');
    expect(sut.err).toContain('check --url');
    expect(methods).toEqual(['POST']);
  });

  it('authenticates the upload with --api-key or AGENTBOX_API_KEY, and says what to fix when refused', async () => {
    const seen: (string | undefined)[] = [];
    let status = 201;
    const url = await fleetService((request, response) => {
      seen.push(request.headers.authorization);
      request.resume();
      request.on('end', () => {
        response.setHeader('content-type', 'application/json');
        response.statusCode = request.method === 'POST' ? status : 200;
        response.end(
          JSON.stringify(
            status === 201
              ? { id: 'rel_2', version: '1.5.0', status: 'ready' }
              : { code: status === 401 ? 'API_KEY_REVOKED' : 'FORBIDDEN', message: 'refused' },
          ),
        );
      });
    });
    const files = ['--manifest', ws.manifest('1.5.0'), '--bundle', ws.bundle('1.5.0')];
    const key = `abk_${'a'.repeat(12)}_${'b'.repeat(40)}`;
    const envKey = `abk_${'c'.repeat(12)}_${'d'.repeat(40)}`;
    const saved = { key: process.env.AGENTBOX_API_KEY, token: process.env.AGENTBOX_API_TOKEN };
    try {
      delete process.env.AGENTBOX_API_TOKEN;
      delete process.env.AGENTBOX_API_KEY;
      expect((await cli('upload', '--url', url, '--api-key', key, ...files)).code).toBe(0);
      process.env.AGENTBOX_API_KEY = envKey;
      const fromEnv = await cli('upload', '--url', url, ...files);
      expect(fromEnv.code, fromEnv.err).toBe(0);
      // A flag wins over the environment.
      expect((await cli('upload', '--url', url, '--token', 'login-jwt', ...files)).code).toBe(0);
      expect(seen).toEqual([
        `Bearer ${key}`,
        `Bearer ${key}`,
        `Bearer ${envKey}`,
        `Bearer ${envKey}`,
        'Bearer login-jwt',
        'Bearer login-jwt',
      ]);

      status = 403;
      const forbidden = await cli('upload', '--url', url, '--api-key', key, ...files);
      expect(forbidden.code).toBe(1);
      expect(forbidden.err).toContain('refused the credentials: HTTP 403 FORBIDDEN');
      expect(forbidden.err).toContain('use an admin API key');
      status = 401;
      const revoked = await cli('upload', '--url', url, '--api-key', key, ...files);
      expect(revoked.err).toContain('API_KEY_REVOKED');
      expect(revoked.err).toContain('create a new admin API key');

      seen.length = 0;
      const both = await cli('upload', '--url', url, '--api-key', key, '--token', 't', ...files);
      expect(both.code).toBe(2);
      expect(both.err).toContain('both --api-key and --token');
      const notKey = await cli('upload', '--url', url, '--api-key', 'eyJhbGciOi', ...files);
      expect(notKey.code).toBe(2);
      expect(notKey.err).toContain('--api-key is not an API key (abk_...)');
      delete process.env.AGENTBOX_API_KEY;
      const none = await cli('upload', '--url', url, ...files);
      expect(none.code).toBe(2);
      expect(none.err).toContain('no credentials');
      expect(seen).toEqual([]);
    } finally {
      for (const [name, value] of [
        ['AGENTBOX_API_KEY', saved.key],
        ['AGENTBOX_API_TOKEN', saved.token],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
