import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReleaseCli } from './release-cli.js';

let dir: string;
const NOW = Date.parse('2030-01-01T00:00:00Z');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReleaseCli(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    now: () => NOW,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const at = (...parts: string[]) => join(dir, ...parts);

describe('agentbox-release', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ota-cli-'));
    // A minimal monorepo with a dependency-free "device agent", so builds here take milliseconds.
    await mkdir(at('repo', 'agent', 'dist'), { recursive: true });
    await writeFile(at('repo', 'package.json'), JSON.stringify({ name: 'repo', workspaces: ['agent'] }));
    await writeFile(
      at('repo', 'agent', 'package.json'),
      JSON.stringify({
        name: 'agent',
        version: '0.0.0',
        type: 'module',
        main: 'dist/main.js',
        devDependencies: { x: '1' },
      }),
    );
    await writeFile(at('repo', 'agent', 'dist', 'main.js'), 'console.log("agent")\n');
    await writeFile(at('notes.md'), 'Faster reconnects.\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates keys, private ones readable by the owner only, and never overwrites them', async () => {
    for (const name of ['root', 'root2', 'release', 'release2']) {
      const sut = await cli('keygen', '--out', at('keys'), '--name', name);
      expect(sut.code).toBe(0);
      expect(sut.out).toMatch(/^key [0-9a-f]{64}/);
    }
    expect((await stat(at('keys', 'root.pem'))).mode & 0o777).toBe(0o600);
    const again = await cli('keygen', '--out', at('keys'), '--name', 'root');
    expect(again).toMatchObject({ code: 2 });
    expect(again.err).toContain('never overwritten');
  });

  it('creates root v1 and rotates it only with both key sets signing', async () => {
    expect(
      (
        await cli(
          'root',
          'init',
          '--root-key',
          at('keys', 'root.pem'),
          '--release-key',
          at('keys', 'release.pub.json'),
          '--out',
          at('root.json'),
        )
      ).code,
    ).toBe(0);
    const v1 = JSON.parse(await readFile(at('root.json'), 'utf8'));
    expect(v1.signed).toMatchObject({ type: 'root', version: 1, expires: '2031-01-01T00:00:00.000Z' });

    const common = [
      '--root',
      at('root.json'),
      '--root-key',
      at('keys', 'root2.pub.json'),
      '--release-key',
      at('keys', 'release2.pub.json'),
      '--out',
      at('root-v2.json'),
    ];
    const unsigned = await cli('root', 'rotate', ...common, '--sign', at('keys', 'root2.pem'));
    expect(unsigned.code).toBe(1);
    expect(unsigned.err).toContain('keys of the trusted root v1');
    expect(existsSync(at('root-v2.json'))).toBe(false);
    const sut = await cli(
      'root',
      'rotate',
      ...common,
      '--sign',
      `${at('keys', 'root.pem')},${at('keys', 'root2.pem')}`,
    );
    expect(sut).toMatchObject({ code: 0 });
    expect(JSON.parse(await readFile(at('root-v2.json'), 'utf8')).signed.version).toBe(2);
  });

  it('builds a signed release that verifies, and refuses what was tampered with', async () => {
    const built = await cli(
      'build',
      '--version',
      '1.5.0',
      '--key',
      at('keys', 'release.pem'),
      '--arch',
      'x64,arm64',
      '--min-version',
      '1.0.0',
      '--notes',
      at('notes.md'),
      '--root',
      at('root.json'),
      '--agent-dir',
      at('repo', 'agent'),
      '--out',
      at('out'),
    );
    expect(built.err).toBe('');
    expect(built.code).toBe(0);
    const manifest = at('out', 'agentbox-device-agent-1.5.0.manifest.json');
    const bundle = at('out', 'agentbox-device-agent-1.5.0.tar.gz');
    const signed = JSON.parse(await readFile(manifest, 'utf8'));
    expect(signed.signed).toMatchObject({
      version: '1.5.0',
      channel: 'stable',
      notes: 'Faster reconnects.\n',
      compatibility: { arch: ['x64', 'arm64'], minCurrentVersion: '1.0.0' },
      artifact: { name: 'agentbox-device-agent-1.5.0.tar.gz', size: (await stat(bundle)).size },
    });

    const verify = (...extra: string[]) =>
      cli('verify', '--root', at('root.json'), '--manifest', manifest, '--bundle', bundle, ...extra);
    expect(await verify('--current-version', '1.4.2', '--arch', 'arm64')).toMatchObject({ code: 0 });
    expect((await verify('--current-version', '1.6.0')).err).toContain('refused (downgrade)');
    expect((await verify('--current-version', '0.9.0')).err).toContain('refused (version-too-old)');

    const rotated = await cli(
      'verify',
      '--root',
      at('root.json'),
      '--roots',
      at('root-v2.json'),
      '--manifest',
      manifest,
    );
    expect(rotated).toMatchObject({ code: 1 });
    expect(rotated.err).toContain('refused (key-revoked)');

    const bytes = await readFile(bundle);
    bytes[bytes.length - 10]! ^= 0xff;
    await writeFile(at('tampered.tar.gz'), bytes);
    const tampered = await cli(
      'verify',
      '--root',
      at('root.json'),
      '--manifest',
      manifest,
      '--bundle',
      at('tampered.tar.gz'),
    );
    expect(tampered.err).toContain('refused (hash-mismatch)');

    signed.signed.notes = 'edited';
    await writeFile(at('edited.manifest.json'), JSON.stringify(signed));
    const edited = await cli('verify', '--root', at('root.json'), '--manifest', at('edited.manifest.json'));
    expect(edited.err).toContain('refused (bad-signature)');
  });

  it('refuses to build with a key the root does not list', async () => {
    const sut = await cli(
      'build',
      '--version',
      '1.5.1',
      '--key',
      at('keys', 'release2.pem'),
      '--root',
      at('root.json'),
      '--agent-dir',
      at('repo', 'agent'),
      '--out',
      at('out'),
    );
    expect(sut.code).toBe(1);
    expect(sut.err).toContain('which the trusted root does not list');
    expect(existsSync(at('out', 'agentbox-device-agent-1.5.1.manifest.json'))).toBe(false);
  });

  it('uploads the manifest, then streams the bundle, with the bearer token', async () => {
    const seen: { method?: string; url?: string; auth?: string; type?: string; body: Buffer }[] = [];
    let existing = false;
    const server = createServer((request, response) => {
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
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const manifest = at('out', 'agentbox-device-agent-1.5.0.manifest.json');
      const bundle = at('out', 'agentbox-device-agent-1.5.0.tar.gz');
      const sut = await cli(
        'upload',
        '--url',
        `${url}/`,
        '--token',
        'admin-token-1234567890',
        '--manifest',
        manifest,
        '--bundle',
        bundle,
      );
      expect(sut.err).toBe('');
      expect(sut.out).toContain('is ready');
      expect(seen.map((item) => [item.method, item.url, item.auth, item.type])).toEqual([
        ['POST', '/api/v1/releases', 'Bearer admin-token-1234567890', 'application/json'],
        [
          'PUT',
          '/api/v1/releases/rel_1/artifact',
          'Bearer admin-token-1234567890',
          'application/octet-stream',
        ],
      ]);
      expect(JSON.parse(seen[0]!.body.toString())).toEqual(JSON.parse(await readFile(manifest, 'utf8')));
      expect(seen[1]!.body.equals(await readFile(bundle))).toBe(true);

      existing = true;
      const again = await cli(
        'upload',
        '--url',
        url,
        '--token',
        'admin-token-1234567890',
        '--manifest',
        manifest,
        '--bundle',
        bundle,
      );
      expect(again.code).toBe(1);
      expect(again.err).toContain('RELEASE_EXISTS');
      expect(again.err).toContain('build a new version');
    } finally {
      server.close();
    }
  });

  it('authenticates the upload with --api-key or AGENTBOX_API_KEY, and says what to fix when refused', async () => {
    const seen: (string | undefined)[] = [];
    let status = 201;
    const server = createServer((request, response) => {
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
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const files = [
      '--manifest',
      at('out', 'agentbox-device-agent-1.5.0.manifest.json'),
      '--bundle',
      at('out', 'agentbox-device-agent-1.5.0.tar.gz'),
    ];
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
      server.close();
      for (const [name, value] of [
        ['AGENTBOX_API_KEY', saved.key],
        ['AGENTBOX_API_TOKEN', saved.token],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('explains usage mistakes', async () => {
    expect((await cli('build', '--version', 'one')).err).toContain('not semantic');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('keygen', '--bogus')).err).toContain('--help');
    expect((await cli('--help')).out).toContain('root rotate');
  });
});
