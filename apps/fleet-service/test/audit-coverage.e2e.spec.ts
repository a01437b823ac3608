import { describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { type AuditEntryDto, AuditEntryDtoSchema } from '@agentbox/schemas';
import { ADMIN_PASSWORD, drivers, useFleetApp } from './support/fleet-app.js';

const MUTATING = ['post', 'put', 'patch', 'delete'] as const;

interface OpenApiDocument {
  paths: Record<string, Partial<Record<string, { operationId?: string }>>>;
}

describe.each(drivers)('every mutation and login is audited ($name)', (driver) => {
  const skip = driver.skip;
  const app = useFleetApp(driver, 'audit-coverage', { signIn: 'admin' });
  const { call, tokens } = app;

  async function newest(): Promise<AuditEntryDto | undefined> {
    const response = await call('GET', '/api/v1/audit?limit=1', { token: tokens.admin });
    expect(response.status, response.text).toBe(200);
    return AuditEntryDtoSchema.array().parse(response.body)[0];
  }

  async function entries(query: string): Promise<AuditEntryDto[]> {
    const response = await call('GET', `/api/v1/audit?limit=1000&${query}`, { token: tokens.admin });
    expect(response.status, response.text).toBe(200);
    return AuditEntryDtoSchema.array().parse(response.body);
  }

  it.skipIf(skip)(
    'leaves an entry for a request to each mutating route of the live OpenAPI document',
    async () => {
      const document = (await call('GET', '/api/docs-json')).body as OpenApiDocument;
      const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
        MUTATING.filter((method) => operations[method]).map((method) => ({ method, path })),
      );
      // The document lists what the console and scripts can call; a new route is walked without naming it.
      expect(routes.length).toBeGreaterThan(25);
      const unaudited: string[] = [];
      for (const [index, route] of routes.entries()) {
        const path = route.path.replace(/\{[^}]+\}/g, `audit-probe-${index}`);
        const before = await newest();
        // An empty body: most routes refuse it, which must be audited as much as a change.
        const response = await call(route.method.toUpperCase(), path, { token: tokens.admin, body: {} });
        const entry = await newest();
        const recorded =
          entry !== undefined &&
          entry.id !== before?.id &&
          entry.status === response.status &&
          entry.sourceAddress === '127.0.0.1' &&
          entry.outcome === (response.status < 400 ? 'success' : entry.outcome);
        if (!recorded) unaudited.push(`${route.method.toUpperCase()} ${route.path} -> ${response.status}`);
      }
      expect(unaudited).toEqual([]);
    },
  );

  it.skipIf(skip)(
    'records logins that succeed and fail, with the source address and never the password',
    async () => {
      const wrong = 'not-the-admin-password';
      expect(
        (await call('POST', '/api/v1/auth/login', { body: { username: 'admin', password: wrong } })).status,
      ).toBe(401);
      const nobody = await call('POST', '/api/v1/auth/login', {
        body: { username: 'nobody', password: wrong },
      });
      expect(nobody.status).toBe(401);
      await app.login('admin', ADMIN_PASSWORD);

      const failed = await entries('action=auth.login-failed');
      expect(failed.slice(0, 2)).toEqual([
        expect.objectContaining({
          actor: 'anonymous',
          actorType: 'anonymous',
          actorId: null,
          targetType: 'user',
          targetId: 'nobody',
          outcome: 'denied',
          allowed: false,
          status: 401,
          errorCode: 'INVALID_CREDENTIALS',
          sourceAddress: '127.0.0.1',
          detail: { username: 'nobody', reason: 'unknown-user' },
        }),
        expect.objectContaining({
          targetId: 'admin',
          allowed: false,
          detail: { username: 'admin', reason: 'wrong-password' },
        }),
      ]);
      const [succeeded] = await entries('action=auth.login');
      expect(succeeded).toMatchObject({
        actor: 'admin',
        actorType: 'user',
        actorId: expect.any(String) as unknown,
        outcome: 'success',
        allowed: true,
        status: 200,
        sourceAddress: '127.0.0.1',
      });
      const all = JSON.stringify(await entries('action=auth.*'));
      expect(all).not.toContain(wrong);
      expect(all).not.toContain(ADMIN_PASSWORD);
    },
  );

  it.skipIf(skip)('records an API key refused by its role as not allowed, under the key', async () => {
    const created = await call('POST', '/api/v1/api-keys', {
      token: tokens.admin,
      body: { name: 'ops script', role: 'operator' },
    });
    expect(created.status, created.text).toBe(201);
    const key = created.body as { id: string; prefix: string; secret: string };
    const refused = await call('POST', '/api/v1/claim-tokens', { token: key.secret, body: {} });
    expect(refused.status).toBe(403);

    expect(await newest()).toMatchObject({
      actor: key.prefix,
      actorType: 'api-key',
      actorId: key.id,
      action: 'claim-token.created',
      outcome: 'denied',
      allowed: false,
      status: 403,
      errorCode: 'FORBIDDEN',
      sourceAddress: '127.0.0.1',
      detail: { method: 'POST', path: '/api/v1/claim-tokens', apiKeyName: 'ops script', role: 'operator' },
    });
    const [made] = await entries('action=api-key.created');
    expect(made).toMatchObject({ actor: 'admin', actorType: 'user', targetId: key.id, status: 201 });
    expect(JSON.stringify(await entries(''))).not.toContain(key.secret.slice(-20));
  });

  it.skipIf(skip)(
    'never keeps a secret in the audit log: provider keys, claim tokens, passwords',
    async () => {
      const providerKey = 'sk-audit-provider-key-0123456789';
      const rotatedKey = 'sk-audit-rotated-key-9876543210';
      const provider = await call('POST', '/api/v1/providers', {
        token: tokens.admin,
        body: { id: 'audited', name: 'Audited', baseUrl: 'https://api.example.com/v1', apiKey: providerKey },
      });
      expect(provider.status, provider.text).toBe(201);
      const rotated = await call('PATCH', '/api/v1/providers/audited', {
        token: tokens.admin,
        body: { apiKey: rotatedKey },
      });
      expect(rotated.status, rotated.text).toBe(200);
      const claim = await call('POST', '/api/v1/claim-tokens', {
        token: tokens.admin,
        body: { note: 'lab' },
      });
      expect(claim.status, claim.text).toBe(201);
      const userPassword = 'a-user-password-in-the-body';
      const user = await call('POST', '/api/v1/users', {
        token: tokens.admin,
        body: { username: 'audited-user', password: userPassword, role: 'viewer' },
      });
      expect(user.status, user.text).toBe(201);

      const [created] = await entries('action=provider.created');
      expect(created).toMatchObject({
        actor: 'admin',
        targetType: 'provider',
        targetId: 'audited',
        outcome: 'success',
        status: 201,
        detail: { body: { id: 'audited', apiKey: '[redacted]' } },
      });
      // Under the user's id, as the later changes to the user (PATCH/DELETE /users/{id}) are.
      expect((await entries('action=user.created'))[0]).toMatchObject({
        targetId: user.body.id,
        status: 201,
      });

      const rows: unknown[] = await app.running.app.get(DataSource).query('SELECT * FROM audit_log');
      const stored = JSON.stringify(rows);
      for (const secret of [
        providerKey,
        rotatedKey,
        claim.body.token as string,
        userPassword,
        ADMIN_PASSWORD,
      ]) {
        expect(stored).not.toContain(secret);
      }
      const csv = await call('GET', '/api/v1/audit/export.csv', { token: tokens.admin });
      expect(csv.status).toBe(200);
      expect(csv.text).not.toContain(providerKey);
      expect(csv.text).toContain('provider.created');
    },
  );

  it.skipIf(skip)(
    'records an enrollment under its claim token, then the box renamed, retagged and deleted',
    async () => {
      const claim = await call('POST', '/api/v1/claim-tokens', {
        token: tokens.admin,
        body: { note: 'rack 2' },
      });
      expect(claim.status, claim.text).toBe(201);
      const enrolled = await call('POST', '/api/v1/provision', {
        body: { claimToken: claim.body.token as string, hardwareId: 'hw-audit-0001', name: 'audited box' },
      });
      expect(enrolled.status, enrolled.text).toBe(200);
      const deviceId = enrolled.body.deviceId as string;
      expect(
        (
          await call('PATCH', `/api/v1/devices/${deviceId}`, {
            token: tokens.admin,
            body: { name: 'renamed' },
          })
        ).status,
      ).toBe(200);
      expect(
        (await call('PATCH', `/api/v1/devices/${deviceId}`, { token: tokens.admin, body: { tags: ['lab'] } }))
          .status,
      ).toBe(200);
      expect((await call('DELETE', `/api/v1/devices/${deviceId}`, { token: tokens.admin })).status).toBe(204);

      const trail = await entries(`targetType=device&targetId=${deviceId}`);
      expect(trail.map((entry) => [entry.action, entry.actorType, entry.status])).toEqual([
        ['device.deleted', 'user', 204],
        ['device.updated', 'user', 200],
        ['device.updated', 'user', 200],
        ['device.enrolled', 'claim-token', 200],
      ]);
      expect(trail.at(-1)).toMatchObject({
        actor: claim.body.id as string,
        actorId: claim.body.id as string,
        sourceAddress: '127.0.0.1',
        detail: { hardwareId: 'hw-audit-0001', name: 'audited box', claimTokenNote: 'rack 2' },
      });
      expect(trail[2]?.detail).toMatchObject({ body: { name: 'renamed' } });
      const stored = JSON.stringify(await entries(''));
      expect(stored).not.toContain(claim.body.token as string);
      expect(stored).not.toContain(enrolled.body.mqtt.password as string);
    },
  );
});
