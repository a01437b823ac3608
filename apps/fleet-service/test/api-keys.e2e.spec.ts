import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import {
  ApiKeyCreatedDtoSchema,
  ApiKeyListResponseSchema,
  type AuditEntryDto,
  AuditEntryDtoSchema,
} from '@agentbox/schemas';
import { ApiKey } from '../src/modules/api-keys/api-key.entity.js';
import { ApiKeysService } from '../src/modules/api-keys/api-keys.service.js';
import { drivers, useFleetApp } from './support/fleet-app.js';

const KEY_FORMAT = /^abk_[a-z2-7]{12}_[a-z2-7]{40}$/;

describe.each(drivers)('API keys over HTTP ($name)', (driver) => {
  const skip = driver.skip;
  const app = useFleetApp(driver, 'api-keys', { signIn: 'admin' });
  const { call, tokens } = app;
  const dataSource = () => app.running.app.get(DataSource);

  async function createKey(body: Record<string, unknown>, token = tokens.admin) {
    const response = await call('POST', '/api/v1/api-keys', { token, body });
    expect(response.status, response.text).toBe(201);
    return ApiKeyCreatedDtoSchema.parse(response.body);
  }

  async function auditBy(actor: string) {
    const response = await call('GET', `/api/v1/audit?actor=${actor}&limit=100`, { token: tokens.admin });
    expect(response.status).toBe(200);
    return AuditEntryDtoSchema.array().parse(response.body);
  }

  const summary = (entry: AuditEntryDto) => [entry.action, entry.status, entry.allowed, entry.errorCode];

  async function auditOf(keyId: string) {
    const response = await call('GET', `/api/v1/audit?targetType=api-key&targetId=${keyId}&limit=100`, {
      token: tokens.admin,
    });
    expect(response.status).toBe(200);
    return AuditEntryDtoSchema.array().parse(response.body);
  }

  it.skipIf(skip)('shows the secret once, keeps only its sha256 and lists keys without it', async () => {
    const created = await createKey({ name: 'release CI', role: 'admin' });
    expect(created.secret).toMatch(KEY_FORMAT);
    expect(created).toMatchObject({
      name: 'release CI',
      role: 'admin',
      status: 'active',
      createdBy: 'admin',
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      prefix: `abk_${created.id}`,
    });
    expect(created.secret.startsWith(`${created.prefix}_`)).toBe(true);

    const list = await call('GET', '/api/v1/api-keys', { token: tokens.admin });
    expect(list.status).toBe(200);
    const items = ApiKeyListResponseSchema.parse(list.body).items;
    expect(items.map((item) => item.id)).toContain(created.id);
    const secretPart = created.secret.slice(created.prefix.length + 1);
    expect(list.text).not.toContain(secretPart);
    expect(list.text).not.toContain('"secret"');

    const rows = await dataSource().query<Array<Record<string, unknown>>>(
      `SELECT * FROM api_keys WHERE id = '${created.id}'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret_hash).toBe(createHash('sha256').update(created.secret).digest('hex'));
    for (const value of Object.values(rows[0]!)) {
      expect(String(value)).not.toContain(secretPart);
    }
    // Nor does the audit log hold it.
    const audit = await call('GET', '/api/v1/audit?limit=1000', { token: tokens.admin });
    expect(audit.text).not.toContain(secretPart);
    expect((await auditOf(created.id)).map((entry) => entry.action)).toEqual(['api-key.created']);
  });

  it.skipIf(skip)('acts with exactly its role, and audits what it changes, allowed or not', async () => {
    const viewer = await createKey({ name: 'dashboard', role: 'viewer' });
    const operator = await createKey({ name: 'ops script', role: 'operator' });
    const adminKey = await createKey({ name: 'provisioner', role: 'admin' });

    const me = await call('GET', '/api/v1/auth/me', { token: viewer.secret });
    expect(me.body).toEqual({ username: viewer.prefix, role: 'viewer' });

    expect((await call('GET', '/api/v1/devices', { token: viewer.secret })).status).toBe(200);
    const refused = await call('GET', '/api/v1/audit', { token: viewer.secret });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'FORBIDDEN' });
    expect(refused.body.message).toContain('needs the operator role; this API key has the viewer role');

    expect((await call('GET', '/api/v1/audit', { token: operator.secret })).status).toBe(200);
    const tooLow = await call('POST', '/api/v1/claim-tokens', { token: operator.secret, body: {} });
    expect(tooLow.status).toBe(403);

    const allowed = await call('POST', '/api/v1/claim-tokens', { token: adminKey.secret, body: {} });
    expect(allowed.status, allowed.text).toBe(201);

    // Keys never manage keys, whatever their role: a leaked key cannot mint a successor.
    const minted = await call('POST', '/api/v1/api-keys', {
      token: adminKey.secret,
      body: { name: 'x', role: 'viewer' },
    });
    expect(minted.status).toBe(403);
    expect(minted.body.code).toBe('API_KEY_NOT_ALLOWED');
    // Nor through a user: an admin key that could make an admin user could have it make a key.
    const user = await call('POST', '/api/v1/users', {
      token: adminKey.secret,
      body: { username: 'minted-admin', password: 'a-long-enough-password', role: 'admin' },
    });
    expect(user.status).toBe(403);
    expect(user.body.code).toBe('API_KEY_NOT_ALLOWED');
    const revokedByKey = await call('POST', `/api/v1/api-keys/${viewer.id}/revoke`, {
      token: adminKey.secret,
    });
    expect(revokedByKey.status).toBe(403);
    expect(revokedByKey.body.code).toBe('API_KEY_NOT_ALLOWED');
    expect((await call('GET', '/api/v1/api-keys', { token: operator.secret })).status).toBe(403);

    // Every request a key makes that could change something is audited under the key, refusals as not
    // allowed; so is a read it was refused.
    const operatorUses = await auditBy(operator.prefix);
    expect(operatorUses.map(summary)).toEqual([
      ['api-key.read', 403, false, 'FORBIDDEN'],
      ['claim-token.created', 403, false, 'FORBIDDEN'],
    ]);
    expect(operatorUses[1]).toMatchObject({
      actorType: 'api-key',
      actorId: operator.id,
      detail: { apiKeyName: 'ops script', role: 'operator', method: 'POST', path: '/api/v1/claim-tokens' },
    });
    expect((await auditBy(adminKey.prefix)).map(summary)).toEqual([
      ['api-key.revoke', 403, false, 'API_KEY_NOT_ALLOWED'],
      ['user.created', 403, false, 'API_KEY_NOT_ALLOWED'],
      ['api-key.created', 403, false, 'API_KEY_NOT_ALLOWED'],
      ['claim-token.created', 201, true, null],
    ]);
    expect((await auditBy(viewer.prefix)).map(summary)).toEqual([['audit.read', 403, false, 'FORBIDDEN']]);
    // The refused revocation names the key it aimed at.
    expect((await auditOf(viewer.id)).map((entry) => entry.action)).toEqual([
      'api-key.revoke',
      'api-key.created',
    ]);

    const listed = ApiKeyListResponseSchema.parse(
      (await call('GET', '/api/v1/api-keys', { token: tokens.admin })).body,
    );
    expect(listed.items.find((item) => item.id === viewer.id)?.lastUsedAt).not.toBeNull();
  });

  it.skipIf(skip)('refuses a revoked key with 401 and says so; revoking again changes nothing', async () => {
    const key = await createKey({ name: 'to revoke', role: 'operator' });
    expect((await call('GET', '/api/v1/devices', { token: key.secret })).status).toBe(200);

    const revoked = await call('POST', `/api/v1/api-keys/${key.id}/revoke`, { token: tokens.admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: key.id, status: 'revoked', revokedBy: 'admin' });
    expect(revoked.text).not.toContain(key.secret);

    const refused = await call('GET', '/api/v1/devices', { token: key.secret });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('API_KEY_REVOKED');
    expect(refused.body.message).toContain(`API key ${key.prefix} ("to revoke") was revoked`);

    const again = await call('POST', `/api/v1/api-keys/${key.id}/revoke`, { token: tokens.admin });
    expect(again.status).toBe(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    // The second revocation changed nothing, but was asked for: audited as a request, not a revocation.
    expect((await auditOf(key.id)).map((entry) => entry.action)).toEqual([
      'api-key.revoke',
      'api-key.revoked',
      'api-key.created',
    ]);

    expect((await call('POST', '/api/v1/api-keys/aaaaaaaaaaaa/revoke', { token: tokens.admin })).status).toBe(
      404,
    );
    expect((await call('POST', '/api/v1/api-keys/NOT-AN-ID/revoke', { token: tokens.admin })).status).toBe(
      400,
    );
  });

  it.skipIf(skip)('refuses an expired key with 401, and an expiry in the past at creation', async () => {
    const past = await call('POST', '/api/v1/api-keys', {
      token: tokens.admin,
      body: { name: 'late', role: 'viewer', expiresAt: new Date(Date.now() - 1000).toISOString() },
    });
    expect(past.status).toBe(400);
    expect(past.body.code).toBe('API_KEY_EXPIRY_PAST');

    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const key = await createKey({ name: 'short-lived', role: 'viewer', expiresAt });
    expect(key.expiresAt).toBe(expiresAt);
    expect((await call('GET', '/api/v1/devices', { token: key.secret })).status).toBe(200);

    // Let the hour pass.
    await dataSource()
      .getRepository(ApiKey)
      .update({ id: key.id }, { expiresAt: new Date(Date.now() - 1000) });
    const refused = await call('GET', '/api/v1/devices', { token: key.secret });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('API_KEY_EXPIRED');
    expect(refused.body.message).toContain(`API key ${key.prefix} ("short-lived") expired at`);
    const listed = ApiKeyListResponseSchema.parse(
      (await call('GET', '/api/v1/api-keys', { token: tokens.admin })).body,
    );
    expect(listed.items.find((item) => item.id === key.id)?.status).toBe('expired');
  });

  it.skipIf(skip)(
    'refuses forged keys, keys in the URL, and keys whose creator lost the role or left',
    async () => {
      const key = await createKey({ name: 'forge target', role: 'viewer' });
      const forged = `${key.prefix}_${'a'.repeat(40)}`;
      for (const token of [forged, 'abk_short', `${key.secret}x`]) {
        const response = await call('GET', '/api/v1/devices', { token });
        expect(response.status).toBe(401);
        expect(response.body).toEqual({
          statusCode: 401,
          code: 'API_KEY_INVALID',
          message: 'Invalid API key',
        });
      }
      // The live stream takes only stream tickets in its URL, and keys get none (they send the header).
      expect((await call('GET', `/api/v1/live?ticket=${key.secret}`)).status).toBe(401);
      const ticket = await call('POST', '/api/v1/auth/stream-ticket', { token: key.secret });
      expect(ticket.status).toBe(403);
      expect(ticket.body.code).toBe('API_KEY_NOT_ALLOWED');

      const users = await call('POST', '/api/v1/users', {
        token: tokens.admin,
        body: { username: 'admin2', password: 'admin2-password', role: 'admin' },
      });
      expect(users.status).toBe(201);
      const admin2 = await app.login('admin2', 'admin2-password');
      const theirs = await createKey({ name: 'of admin2', role: 'admin' }, admin2);
      expect(theirs.createdBy).toBe('admin2');
      expect((await call('GET', '/api/v1/api-keys', { token: theirs.secret })).status).toBe(200);

      // Demoted: the key follows its creator down.
      await dataSource().query(`UPDATE users SET role = 'viewer' WHERE username = 'admin2'`);
      expect((await call('GET', '/api/v1/api-keys', { token: theirs.secret })).status).toBe(403);
      expect((await call('GET', '/api/v1/auth/me', { token: theirs.secret })).body.role).toBe('viewer');

      // Deleted: the key stops working, as the user's own sessions do.
      await dataSource().query(`DELETE FROM users WHERE username = 'admin2'`);
      const gone = await call('GET', '/api/v1/devices', { token: theirs.secret });
      expect(gone.status).toBe(401);
      expect(gone.body.message).toContain('belonged to a user who no longer exists');
    },
  );

  it.skipIf(skip)('lets admins only create keys, never above their own role', async () => {
    const users = await call('POST', '/api/v1/users', {
      token: tokens.admin,
      body: { username: 'op1', password: 'operator-password', role: 'operator' },
    });
    expect(users.status).toBe(201);
    const operator = await app.login('op1', 'operator-password');
    const refused = await call('POST', '/api/v1/api-keys', {
      token: operator,
      body: { name: 'mine', role: 'viewer' },
    });
    expect(refused.status).toBe(403);
    // The rule holds below the admin-only route too.
    await expect(
      app.running.app
        .get(ApiKeysService)
        .create({ name: 'escalate', role: 'admin' }, { id: 'x', username: 'op1', role: 'operator' }),
    ).rejects.toMatchObject({ code: 'API_KEY_ROLE_TOO_HIGH' });

    const invalid = await call('POST', '/api/v1/api-keys', {
      token: tokens.admin,
      body: { name: '', role: 'root' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
  });
});
