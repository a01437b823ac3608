import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { drivers, useFleetApp } from './support/fleet-app.js';

const sqlite = drivers.find((driver) => driver.name === 'sqlite')!;

const IMMUTABLE = 'public, max-age=31536000, immutable';
// Above the compression threshold, as the console's real files are.
const SCRIPT = `export const x = ${JSON.stringify('agentbox '.repeat(400))};\n`;
const STYLE = `.a { color: red; }\n`.repeat(200);
const INDEX_HTML = `<!doctype html><title>console</title><div id="app"></div><!--${'pad '.repeat(400)}-->`;

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A request that shows the bytes on the wire: fetch would decode them and hide what was sent. */
function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The head and first chunk of a response that never ends (the live stream), then hangs up. */
function firstChunk(base: string, path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (response) => {
      response.once('data', (chunk: Buffer) => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: chunk });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web delivery: compression and caching', () => {
  const app = useFleetApp(sqlite, 'delivery', {
    signIn: 'admin',
    env: (dataDir) => {
      const consoleDir = join(dataDir, 'console');
      mkdirSync(join(consoleDir, 'assets'), { recursive: true });
      writeFileSync(join(consoleDir, 'index.html'), INDEX_HTML);
      writeFileSync(join(consoleDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
      // As the console's build writes them: each hashed file with its brotli and gzip variants.
      const script = join(consoleDir, 'assets', 'index-Cqm1syHw.js');
      writeFileSync(script, SCRIPT);
      writeFileSync(`${script}.br`, brotliCompressSync(SCRIPT));
      writeFileSync(`${script}.gz`, gzipSync(SCRIPT));
      // A file the build left without variants still goes out compressed.
      writeFileSync(join(consoleDir, 'assets', 'index-ixCaouAx.css'), STYLE);
      return { AGENTBOX_CONSOLE_DIR: consoleDir };
    },
  });

  it('serves a hashed script precompressed, by Accept-Encoding, cached as immutable', async () => {
    const br = await rawGet(app.base, '/assets/index-Cqm1syHw.js', {
      'accept-encoding': 'gzip, deflate, br',
    });
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toContain('javascript');
    expect(br.headers['cache-control']).toBe(IMMUTABLE);
    expect(br.headers.vary).toContain('accept-encoding');
    expect(br.body.length).toBeLessThan(SCRIPT.length / 4);
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);

    const gzip = await rawGet(app.base, '/assets/index-Cqm1syHw.js', { 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers['cache-control']).toBe(IMMUTABLE);
    expect(gunzipSync(gzip.body).toString()).toBe(SCRIPT);

    const plain = await rawGet(app.base, '/assets/index-Cqm1syHw.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe(IMMUTABLE);
    expect(plain.body.toString()).toBe(SCRIPT);
  });

  it('compresses a hashed file without variants on the fly', async () => {
    const css = await rawGet(app.base, '/assets/index-ixCaouAx.css', { 'accept-encoding': 'gzip' });
    expect(css.status).toBe(200);
    expect(css.headers['content-encoding']).toBe('gzip');
    expect(css.headers['cache-control']).toBe(IMMUTABLE);
    expect(gunzipSync(css.body).toString()).toBe(STYLE);
  });

  it('has index.html, SPA fallbacks and unhashed files revalidated, with the security headers', async () => {
    for (const path of ['/', '/devices', '/agents/a-1?tab=runs']) {
      const page = await rawGet(app.base, path, { 'accept-encoding': 'br' });
      expect(page.status, path).toBe(200);
      expect(page.headers['cache-control'], path).toBe('no-cache');
      expect(page.headers['content-encoding'], path).toBe('br');
      expect(brotliDecompressSync(page.body).toString()).toBe(INDEX_HTML);
      expect(page.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(page.headers['x-frame-options'], path).toBe('DENY');
    }
    const icon = await rawGet(app.base, '/favicon.svg', { 'accept-encoding': 'br' });
    expect(icon.status).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');

    const script = await rawGet(app.base, '/assets/index-Cqm1syHw.js', { 'accept-encoding': 'br' });
    expect(script.headers['content-security-policy']).toContain("default-src 'self'");
    expect(script.headers['x-content-type-options']).toBe('nosniff');
  });

  it('compresses JSON API responses when the client accepts it', async () => {
    const auth = { authorization: `Bearer ${app.tokens.admin}` };
    const plain = await rawGet(app.base, '/api/v1/telemetry/catalog', auth);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(1024);

    const gzip = await rawGet(app.base, '/api/v1/telemetry/catalog', { ...auth, 'accept-encoding': 'gzip' });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers['content-type']).toContain('application/json');
    expect(gzip.headers.vary).toContain('accept-encoding');
    expect(JSON.parse(gunzipSync(gzip.body).toString())).toEqual(JSON.parse(plain.body.toString()));

    const br = await rawGet(app.base, '/api/v1/telemetry/catalog', {
      ...auth,
      'accept-encoding': 'br, gzip',
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(plain.body.toString());
    expect(br.body.length).toBeLessThan(plain.body.length);
  });

  it('never compresses the live stream, so each event reaches the browser at once', async () => {
    const live = await firstChunk(app.base, '/api/v1/live', {
      authorization: `Bearer ${app.tokens.admin}`,
      'accept-encoding': 'br, gzip',
    });
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toContain('text/event-stream');
    expect(live.headers['content-encoding']).toBeUndefined();
    expect(live.body.toString()).toContain(': connected');
  });
});
