import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProvisionResponseSchema } from '@agentbox/schemas';
import { metricValue } from '../support/api.js';
import { Platform } from '../support/platform.js';

/** `[[[…1…]]]`, `depth` arrays deep. */
function nestedArrays(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

/** The hardening of the HTTP surface, against one real fleet-service process (embedded broker, SQLite). */
describe('HTTP hardening', () => {
  const platform = new Platform();
  let deviceId: string;

  beforeAll(async () => {
    await platform.start();
    const claimToken = await platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    const provisioned = await platform.api.request('POST', '/api/v1/provision', {
      claimToken,
      hardwareId: 'hardening-box-0001',
      name: 'hardening box',
    });
    deviceId = ProvisionResponseSchema.parse(provisioned.body).deviceId;
  });

  afterAll(() => platform.stop());

  describe('JSON bodies nested too deeply', () => {
    it('refuses them with 400 BODY_TOO_DEEP on every route, counted, and the service keeps serving', async () => {
      const before = metricValue(await platform.api.metrics(), 'agentbox_http_rejections_total', {
        code: 'BODY_TOO_DEEP',
      });
      const deepSpec = `{"spec":{"x":${nestedArrays(5_000)}}}`;
      const requests: Array<[string, string, string]> = [
        ['PUT', `/api/v1/devices/${deviceId}/desired`, deepSpec],
        ['PATCH', `/api/v1/devices/${deviceId}`, `{"name":"x","tags":${nestedArrays(100_000)}}`],
        ['POST', '/api/v1/auth/login', `{"username":${nestedArrays(4_100)},"password":"x"}`],
        ['POST', '/api/v1/provision', `{"claimToken":"x","hardwareId":${nestedArrays(65)}}`],
      ];
      for (const [method, path, rawBody] of requests) {
        const response = await platform.api.request(method, path, undefined, { rawBody });
        expect({ path, status: response.status, body: response.body }).toEqual({
          path,
          status: 400,
          body: { statusCode: 400, code: 'BODY_TOO_DEEP', message: expect.stringContaining('64') },
        });
      }
      const after = metricValue(await platform.api.metrics(), 'agentbox_http_rejections_total', {
        code: 'BODY_TOO_DEEP',
      });
      expect(after - before).toBe(requests.length);
      expect((await platform.api.request('GET', '/healthz')).status).toBe(200);
    });

    it('still takes a body at the cap, brackets inside strings not counted', async () => {
      // `spec` itself is level 2 of the body, so its value may nest 62 more levels.
      const spec = { x: JSON.parse(nestedArrays(62)) as unknown, note: '['.repeat(500) };
      const response = await platform.api.request('PUT', `/api/v1/devices/${deviceId}/desired`, { spec });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ desired: { version: expect.any(Number) } });
    });
  });

  describe('names', () => {
    const spoofs = {
      NUL: 'box\u0000one',
      'CR/LF': 'box\r\n2026-01-01 admin logged in',
      'right-to-left override': 'invoice\u202egpj.exe',
      'whitespace only': ' \t ',
    };

    it.each(Object.entries(spoofs))(
      'refuses a name with %s everywhere a name is given',
      async (_what, bad) => {
        const attempts: Array<[string, string, unknown]> = [
          ['PATCH', `/api/v1/devices/${deviceId}`, { name: bad }],
          ['POST', '/api/v1/providers', { id: 'spoof', name: bad, baseUrl: 'https://api.example.com/v1' }],
          [
            'POST',
            '/api/v1/agents',
            {
              id: 'spoof',
              definition: { name: bad, instructions: 'hi', model: { provider: 'spoof', model: 'm' } },
            },
          ],
          ['POST', '/api/v1/users', { username: bad, password: 'long-enough-password', role: 'viewer' }],
          ['POST', '/api/v1/api-keys', { name: bad, role: 'viewer' }],
        ];
        for (const [method, path, body] of attempts) {
          const response = await platform.api.request<{ code?: string }>(method, path, body);
          expect({ path, status: response.status, code: response.body.code }).toEqual({
            path,
            status: 400,
            code: 'VALIDATION_FAILED',
          });
        }
        expect((await platform.api.device(deviceId)).name).toBe('hardening box');
      },
    );

    it('keeps names in any script, without the spaces around them', async () => {
      const response = await platform.api.request('PATCH', `/api/v1/devices/${deviceId}`, {
        name: '  厨房 box 👩‍💻 ',
      });
      expect(response.status).toBe(200);
      expect((await platform.api.device(deviceId)).name).toBe('厨房 box 👩‍💻');
    });
  });

  describe('security headers', () => {
    /** The headers every response carries, whatever serves it. */
    function expectSecurityHeaders(path: string, headers: Headers): void {
      const csp = headers.get('content-security-policy') ?? '';
      expect({ path, csp }).toEqual({ path, csp: expect.stringContaining("frame-ancestors 'none'") });
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('x-powered-by')).toBeNull();
    }

    it('are on the console, /api/docs, the API, errors and 404s; HSTS only over TLS', async () => {
      const paths = [
        '/',
        '/devices',
        '/api/docs',
        '/api/docs-json',
        '/api/v1/devices',
        '/api/v1/nope',
        '/metrics',
      ];
      for (const path of paths) {
        // Without AGENTBOX_TRUST_PROXY a forwarded scheme is not believed: plain HTTP, no HSTS.
        const response = await fetch(`${platform.fleet.url}${path}`, {
          headers: { 'x-forwarded-proto': 'https' },
        });
        expectSecurityHeaders(path, response.headers);
        expect(response.headers.get('strict-transport-security')).toBeNull();
      }
    });

    it('sends HSTS when a trusted proxy says the request came over TLS', async () => {
      const behindProxy = new Platform({ AGENTBOX_TRUST_PROXY: 'true' });
      try {
        await behindProxy.start();
        const overTls = await fetch(`${behindProxy.fleet.url}/`, {
          headers: { 'x-forwarded-proto': 'https' },
        });
        expectSecurityHeaders('/', overTls.headers);
        expect(overTls.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
        const plain = await fetch(`${behindProxy.fleet.url}/`);
        expect(plain.headers.get('strict-transport-security')).toBeNull();
      } finally {
        await behindProxy.stop();
      }
    });
  });
});
