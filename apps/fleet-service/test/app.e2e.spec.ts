import { describe, expect, it } from 'vitest';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are checked field by field */
import {
  ApiErrorSchema,
  DeviceDtoSchema,
  DeviceListResponseSchema,
  ProvisionResponseSchema,
} from '@agentbox/schemas';
import { SimulatedBox } from '@agentbox/test-support';
import { ADMIN_PASSWORD, drivers, useFleetApp } from './support/fleet-app.js';

describe.each(drivers)('fleet service over HTTP ($name)', (driver) => {
  const skip = driver.skip;
  const app = useFleetApp(driver, 'app');
  const { call, login } = app;
  let adminToken: string;
  let viewerToken: string;
  let operatorToken: string;

  /** Asserts an error response: status, stable code, and the `{statusCode, code, message}` shape. */
  async function expectError(
    promise: Promise<{ status: number; body: any }>,
    status: number,
    code: string,
  ): Promise<{ status: number; body: any }> {
    const response = await promise;
    expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
    expect(ApiErrorSchema.parse(response.body)).toEqual({
      statusCode: status,
      code,
      message: expect.any(String),
    });
    return response;
  }

  async function rejections(code: string): Promise<number> {
    const text = (await call('GET', '/metrics')).body as string;
    const match = new RegExp(`^agentbox_http_rejections_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  }

  async function gauge(name: string): Promise<number | undefined> {
    const text = (await call('GET', '/metrics')).body as string;
    const match = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  }

  /** Runs `action`, expecting the rejection counter for `code` to grow by exactly `by`. */
  async function counted(code: string, action: () => Promise<unknown>, by = 1): Promise<void> {
    const before = await rejections(code);
    await action();
    expect((await rejections(code)) - before).toBe(by);
  }

  /** Provisioning `hardwareId` with `claimToken` is refused with 401 and `code`, and counted once. */
  function provisionRefused(claimToken: string, hardwareId: string, code: string): Promise<void> {
    return counted(code, () =>
      expectError(call('POST', '/api/v1/provision', { body: { claimToken, hardwareId } }), 401, code),
    );
  }

  it.skipIf(skip)('serves liveness, readiness and Prometheus metrics without a token', async () => {
    expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('GET', '/readyz')).toMatchObject({
      status: 200,
      body: { status: 'ok', checks: { database: 'up', broker: 'up' } },
    });
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toContain('agentbox_http_requests_total');
  });

  it.skipIf(skip)('logs in, refuses wrong passwords and throttles guessing', async () => {
    await counted('INVALID_CREDENTIALS', () =>
      expectError(
        call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'nope' } }),
        401,
        'INVALID_CREDENTIALS',
      ),
    );
    const ok = await call('POST', '/api/v1/auth/login', {
      body: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
      user: { username: 'admin', role: 'admin' },
    });
    adminToken = ok.body.accessToken;
    expect(await call('GET', '/api/v1/auth/me', { token: adminToken })).toMatchObject({
      status: 200,
      body: { username: 'admin', role: 'admin' },
    });

    for (let i = 0; i < 10; i += 1) {
      await expectError(
        call('POST', '/api/v1/auth/login', { body: { username: 'ghost', password: `x${i}` } }),
        401,
        'INVALID_CREDENTIALS',
      );
    }
    await counted('TOO_MANY_ATTEMPTS', async () => {
      const throttled = await expectError(
        call('POST', '/api/v1/auth/login', { body: { username: 'ghost', password: 'again' } }),
        429,
        'TOO_MANY_ATTEMPTS',
      );
      expect(Number((throttled as { headers?: Headers }).headers?.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  it.skipIf(skip)(
    'rejects missing or bad tokens, bad bodies and unknown routes with stable codes',
    async () => {
      await counted('UNAUTHENTICATED', () =>
        expectError(call('GET', '/api/v1/devices'), 401, 'UNAUTHENTICATED'),
      );
      await expectError(call('GET', '/api/v1/devices', { token: 'not.a.jwt' }), 401, 'UNAUTHENTICATED');
      await expectError(call('GET', '/api/v1/live?ticket=not.a.jwt'), 401, 'UNAUTHENTICATED');
      // The login token never goes in a URL, not even the SSE route's.
      await expectError(call('GET', `/api/v1/live?access_token=${adminToken}`), 401, 'UNAUTHENTICATED');
      await expectError(call('GET', `/api/v1/live?ticket=${adminToken}`), 401, 'UNAUTHENTICATED');
      // A stream ticket opens the stream only: it is no bearer token, and no other route takes it.
      const ticketResponse = await call('POST', '/api/v1/auth/stream-ticket', { token: adminToken });
      expect(ticketResponse.status, ticketResponse.text).toBe(200);
      const ticket = ticketResponse.body as {
        ticket: string;
        expiresIn: number;
      };
      expect(ticket.expiresIn).toBe(60);
      await expectError(call('GET', '/api/v1/devices', { token: ticket.ticket }), 401, 'UNAUTHENTICATED');
      await expectError(call('GET', `/api/v1/devices?ticket=${ticket.ticket}`), 401, 'UNAUTHENTICATED');

      await counted('MALFORMED_BODY', () =>
        expectError(
          call('POST', '/api/v1/auth/login', { raw: '{"username": "admin",' }),
          400,
          'MALFORMED_BODY',
        ),
      );
      await counted('VALIDATION_FAILED', async () => {
        const invalid = await expectError(
          call('POST', '/api/v1/auth/login', { body: { username: '' } }),
          400,
          'VALIDATION_FAILED',
        );
        expect(invalid.body.message).toContain('username');
        expect(invalid.body.message).toContain('password');
      });
      await expectError(
        call('POST', '/api/v1/claim-tokens', { token: adminToken, body: { maxUses: -1 } }),
        400,
        'VALIDATION_FAILED',
      );
      await expectError(
        call('POST', '/api/v1/auth/login', {
          raw: 'username=admin',
          headers: { 'content-type': 'text/x-nope' },
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      await counted('PAYLOAD_TOO_LARGE', () =>
        expectError(
          call('POST', '/api/v1/auth/login', {
            body: { username: 'admin', password: 'x'.repeat(2 * 1024 * 1024) },
          }),
          413,
          'PAYLOAD_TOO_LARGE',
        ),
      );
      await counted('NOT_FOUND', () =>
        expectError(call('GET', '/api/v1/no-such-route', { token: adminToken }), 404, 'NOT_FOUND'),
      );
      await expectError(call('POST', '/api/v1/no-such-route'), 404, 'NOT_FOUND');
    },
  );

  it.skipIf(skip)('enforces roles: viewer < operator < admin', async () => {
    for (const [username, role] of [
      ['viewer1', 'viewer'],
      ['operator1', 'operator'],
    ] as const) {
      const created = await call('POST', '/api/v1/users', {
        token: adminToken,
        body: { username, password: `${username}-password`, role },
      });
      expect(created).toMatchObject({ status: 201, body: { username, role } });
    }
    await expectError(
      call('POST', '/api/v1/users', {
        token: adminToken,
        body: { username: 'viewer1', password: 'whatever-pass', role: 'viewer' },
      }),
      409,
      'USERNAME_TAKEN',
    );
    viewerToken = await login('viewer1', 'viewer1-password');
    operatorToken = await login('operator1', 'operator1-password');
    expect((await call('GET', '/api/v1/devices', { token: viewerToken })).status).toBe(200);
    await counted('FORBIDDEN', () =>
      expectError(call('POST', '/api/v1/claim-tokens', { token: viewerToken, body: {} }), 403, 'FORBIDDEN'),
    );
    await expectError(call('GET', '/api/v1/claim-tokens', { token: operatorToken }), 403, 'FORBIDDEN');
    await expectError(call('GET', '/api/v1/users', { token: viewerToken }), 403, 'FORBIDDEN');
    await expectError(call('GET', '/api/v1/enrollment', { token: operatorToken }), 403, 'FORBIDDEN');
  });

  let deviceId: string;
  let mqttUrl: string;
  let secret: string;

  it.skipIf(skip)(
    'provisions with claim tokens: idempotent re-enrolment, used up, expired, revoked, unknown',
    async () => {
      const created = await call('POST', '/api/v1/claim-tokens', {
        token: adminToken,
        body: { maxUses: 2, note: 'e2e' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.any(String),
        token: expect.any(String),
        maxUses: 2,
        uses: 0,
      });
      const claimToken = created.body.token as string;

      const listed = await call('GET', '/api/v1/claim-tokens', { token: adminToken });
      expect(listed.status).toBe(200);
      expect(JSON.stringify(listed.body)).not.toContain(claimToken);
      expect(listed.body.items).toEqual([
        expect.objectContaining({ id: created.body.id, state: 'active', note: 'e2e' }),
      ]);

      const first = await call('POST', '/api/v1/provision', {
        body: { claimToken, hardwareId: 'e2e-hw-0001', name: 'e2e box' },
      });
      expect(first.status).toBe(200);
      ProvisionResponseSchema.parse(first.body);
      deviceId = first.body.deviceId;
      mqttUrl = first.body.mqtt.url;
      expect(first.body.mqtt.username).toBe(deviceId);
      expect(mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);

      const again = await call('POST', '/api/v1/provision', {
        body: { claimToken, hardwareId: 'e2e-hw-0001' },
      });
      expect(again.status).toBe(200);
      expect(again.body.deviceId).toBe(deviceId);
      expect(again.body.mqtt.password).not.toBe(first.body.mqtt.password);
      secret = again.body.mqtt.password;

      await provisionRefused(claimToken, 'e2e-hw-0002', 'CLAIM_TOKEN_EXHAUSTED');
      await provisionRefused('abct_this-token-does-not-exist', 'e2e-hw-0002', 'CLAIM_TOKEN_INVALID');
      await expectError(
        call('POST', '/api/v1/provision', { body: { claimToken, hardwareId: 'bad/hw' } }),
        400,
        'VALIDATION_FAILED',
      );

      const shortLived = await call('POST', '/api/v1/claim-tokens', {
        token: adminToken,
        body: { ttlHours: 0.0001 },
      });
      expect(shortLived.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 600));
      await provisionRefused(shortLived.body.token, 'e2e-hw-0003', 'CLAIM_TOKEN_EXPIRED');

      const toRevoke = await call('POST', '/api/v1/claim-tokens', { token: adminToken, body: {} });
      expect(
        (await call('DELETE', `/api/v1/claim-tokens/${toRevoke.body.id}`, { token: adminToken })).status,
      ).toBe(204);
      await provisionRefused(toRevoke.body.token, 'e2e-hw-0004', 'CLAIM_TOKEN_REVOKED');
      await expectError(
        call('DELETE', '/api/v1/claim-tokens/00000000-0000-4000-8000-000000000000', { token: adminToken }),
        404,
        'CLAIM_TOKEN_NOT_FOUND',
      );

      const enrollment = await call('GET', '/api/v1/enrollment', { token: adminToken });
      expect(enrollment).toMatchObject({ status: 200, body: { fleetUrl: app.base, mqttUrl } });
    },
  );

  it.skipIf(skip)('lets the provisioned box onto the broker with its rotated secret only', async () => {
    const connect = (password: string) => SimulatedBox.connect({ url: mqttUrl, deviceId, password });
    const box = await connect(secret);
    expect(box.connected).toBe(true);
    await box.close();
    await expect(connect('definitely-the-wrong-secret')).rejects.toThrow();
  });

  it.skipIf(skip)(
    'lists, filters, reads, updates and deletes devices, streaming changes over SSE',
    async () => {
      const list = await call('GET', `/api/v1/devices?q=E2E&sort=createdAt&order=desc`, {
        token: viewerToken,
      });
      expect(list.status).toBe(200);
      DeviceListResponseSchema.parse(list.body);
      expect(list.body.total).toBe(1);
      expect(list.body.items[0]).toMatchObject({
        id: deviceId,
        name: 'e2e box',
        hardwareId: 'e2e-hw-0001',
        tags: [],
      });
      expect((await call('GET', '/api/v1/devices?online=maybe', { token: viewerToken })).status).toBe(400);

      const one = await call('GET', `/api/v1/devices/${deviceId}`, { token: viewerToken });
      expect(one.status).toBe(200);
      expect(DeviceDtoSchema.parse(one.body)).toMatchObject({ id: deviceId, agentVersion: null });
      expect(one.body).not.toHaveProperty('secretHash');
      await counted('INVALID_DEVICE_ID', () =>
        expectError(call('GET', '/api/v1/devices/bad$id', { token: viewerToken }), 400, 'INVALID_DEVICE_ID'),
      );
      await counted('DEVICE_NOT_FOUND', () =>
        expectError(
          call('GET', '/api/v1/devices/box-doesnotexist', { token: viewerToken }),
          404,
          'DEVICE_NOT_FOUND',
        ),
      );

      // Live stream, authenticated through the query string as EventSource does, with a stream ticket.
      const { ticket } = (await call('POST', '/api/v1/auth/stream-ticket', { token: adminToken })).body as {
        ticket: string;
      };
      const abort = new AbortController();
      const stream = await fetch(`${app.base}/api/v1/live?ticket=${ticket}`, {
        signal: abort.signal,
      });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toContain('text/event-stream');
      const reader = stream.body!.getReader();
      const received = (async () => {
        let text = '';
        while (!text.includes('event: device.updated')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        return text;
      })();

      await expectError(
        call('PATCH', `/api/v1/devices/${deviceId}`, { token: viewerToken, body: { name: 'x' } }),
        403,
        'FORBIDDEN',
      );
      await expectError(
        call('PATCH', `/api/v1/devices/${deviceId}`, { token: operatorToken, body: { tags: ['bad tag!'] } }),
        400,
        'VALIDATION_FAILED',
      );
      const patched = await call('PATCH', `/api/v1/devices/${deviceId}`, {
        token: operatorToken,
        body: { name: 'renamed', tags: ['lab', 'gpu'] },
      });
      expect(patched).toMatchObject({
        status: 200,
        body: { id: deviceId, name: 'renamed', tags: ['lab', 'gpu'] },
      });
      const text = await received;
      expect(text).toContain(`data: ${JSON.stringify({ type: 'device.updated', deviceId })}`);
      expect(await gauge('agentbox_live_clients')).toBe(1);
      abort.abort();
      // The server notices the disconnect and drops the subscription.
      for (let i = 0; i < 50 && (await gauge('agentbox_live_clients')) !== 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await gauge('agentbox_live_clients')).toBe(0);

      expect((await call('GET', '/api/v1/devices?tag=gpu', { token: viewerToken })).body.total).toBe(1);
      expect((await call('GET', '/api/v1/devices?tag=nope', { token: viewerToken })).body.total).toBe(0);

      await expectError(
        call('DELETE', `/api/v1/devices/${deviceId}`, { token: operatorToken }),
        403,
        'FORBIDDEN',
      );
      expect((await call('DELETE', `/api/v1/devices/${deviceId}`, { token: adminToken })).status).toBe(204);
      await expectError(
        call('GET', `/api/v1/devices/${deviceId}`, { token: adminToken }),
        404,
        'DEVICE_NOT_FOUND',
      );
    },
  );

  it.skipIf(skip)('documents the API and falls back to the console page for other GETs', async () => {
    const doc = await call('GET', '/api/docs-json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/login',
        '/api/v1/devices',
        '/api/v1/devices/{id}',
        '/api/v1/provision',
      ]),
    );
    expect(doc.body.components.schemas.DeviceDto.required).toEqual(
      expect.arrayContaining(['id', 'online', 'lastSeenAt', 'tags']),
    );
    expect((await call('GET', '/api/docs')).status).toBe(200);
    const page = await call('GET', '/devices/some-box');
    expect(page.status).toBe(200);
    expect(page.body).toContain('npm run build');
  });
});
