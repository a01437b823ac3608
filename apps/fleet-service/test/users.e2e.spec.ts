import { describe, expect, it } from 'vitest';
import { UserAccountDtoSchema, UserListResponseSchema } from '@agentbox/schemas';
import { drivers, expectError, useFleetApp } from './support/fleet-app.js';

describe.each(drivers)('users over HTTP ($name)', (driver) => {
  const skip = driver.skip;
  const app = useFleetApp(driver, 'users', { signIn: 'every role' });
  const { call, tokens } = app;

  async function userId(username: string): Promise<string> {
    const list = await call('GET', '/api/v1/users', { token: tokens.admin });
    expect(list.status).toBe(200);
    const user = UserListResponseSchema.parse(list.body).items.find((item) => item.username === username);
    expect(user, username).toBeDefined();
    return user!.id;
  }

  it.skipIf(skip)('lets only a signed-in admin manage users, never an API key', async () => {
    const id = await userId('viewer1');
    for (const token of [tokens.operator, tokens.viewer]) {
      await expectError(call('GET', '/api/v1/users', { token }), 403, 'FORBIDDEN');
      await expectError(
        call('PATCH', `/api/v1/users/${id}`, { token, body: { role: 'admin' } }),
        403,
        'FORBIDDEN',
      );
      await expectError(call('DELETE', `/api/v1/users/${id}`, { token }), 403, 'FORBIDDEN');
      await expectError(call('POST', `/api/v1/users/${id}/password-reset`, { token }), 403, 'FORBIDDEN');
    }
    const key = await call('POST', '/api/v1/api-keys', {
      token: tokens.admin,
      body: { name: 'k', role: 'admin' },
    });
    expect(key.status).toBe(201);
    const secret = key.body.secret as string;
    await expectError(
      call('PATCH', `/api/v1/users/${id}`, { token: secret, body: { disabled: true } }),
      403,
      'API_KEY_NOT_ALLOWED',
    );
    await expectError(
      call('POST', `/api/v1/users/${id}/password-reset`, { token: secret }),
      403,
      'API_KEY_NOT_ALLOWED',
    );
    await expectError(
      call('POST', '/api/v1/auth/password', {
        token: secret,
        body: { currentPassword: 'x', newPassword: 'y'.repeat(8) },
      }),
      403,
      'API_KEY_NOT_ALLOWED',
    );
  });

  it.skipIf(skip)(
    'changes roles, disables, resets and deletes, with the codes the console shows',
    async () => {
      const created = await call('POST', '/api/v1/users', {
        token: tokens.admin,
        body: { username: 'temp1', password: 'temp1-password', role: 'viewer' },
      });
      expect(created.status).toBe(201);
      const user = UserAccountDtoSchema.parse(created.body);
      expect(user).toMatchObject({ username: 'temp1', role: 'viewer', disabledAt: null });
      const session = await app.login('temp1', 'temp1-password');

      const promoted = await call('PATCH', `/api/v1/users/${user.id}`, {
        token: tokens.admin,
        body: { role: 'operator' },
      });
      expect(promoted.body).toMatchObject({ role: 'operator' });
      await expectError(
        call('PATCH', `/api/v1/users/${user.id}`, { token: tokens.admin, body: {} }),
        400,
        'VALIDATION_FAILED',
      );
      await expectError(
        call('PATCH', '/api/v1/users/not-a-uuid', { token: tokens.admin, body: { role: 'viewer' } }),
        404,
        'USER_NOT_FOUND',
      );

      const disabled = await call('PATCH', `/api/v1/users/${user.id}`, {
        token: tokens.admin,
        body: { disabled: true },
      });
      expect(disabled.body.disabledAt).toEqual(expect.any(String));
      await expectError(call('GET', '/api/v1/auth/me', { token: session }), 401, 'UNAUTHENTICATED');
      await expectError(
        call('POST', '/api/v1/auth/login', { body: { username: 'temp1', password: 'temp1-password' } }),
        403,
        'USER_DISABLED',
      );
      await call('PATCH', `/api/v1/users/${user.id}`, { token: tokens.admin, body: { disabled: false } });

      const reset = await call('POST', `/api/v1/users/${user.id}/password-reset`, { token: tokens.admin });
      expect(reset.status).toBe(200);
      const fresh = await app.login('temp1', reset.body.password as string);
      const changed = await call('POST', '/api/v1/auth/password', {
        token: fresh,
        body: { currentPassword: reset.body.password, newPassword: 'my own password' },
      });
      expect(changed.status).toBe(200);
      await app.login('temp1', 'my own password');

      const adminId = await userId('admin');
      await expectError(
        call('DELETE', `/api/v1/users/${adminId}`, { token: tokens.admin }),
        409,
        'SELF_CHANGE_REFUSED',
      );
      await expectError(
        call('PATCH', `/api/v1/users/${adminId}`, { token: tokens.admin, body: { role: 'operator' } }),
        409,
        'LAST_ADMIN',
      );
      expect((await call('DELETE', `/api/v1/users/${user.id}`, { token: tokens.admin })).status).toBe(204);
      await expectError(
        call('DELETE', `/api/v1/users/${user.id}`, { token: tokens.admin }),
        404,
        'USER_NOT_FOUND',
      );
    },
  );

  // Last: it takes the bootstrap admin's role away from whichever request wins.
  it.skipIf(skip)('keeps an enabled admin when two admins demote each other at the same moment', async () => {
    const created = await call('POST', '/api/v1/users', {
      token: tokens.admin,
      body: { username: 'admin2', password: 'admin2-password', role: 'admin' },
    });
    expect(created.status).toBe(201);
    const second = await app.login('admin2', 'admin2-password');
    const adminId = await userId('admin');
    const secondId = UserAccountDtoSchema.parse(created.body).id;
    const answers = await Promise.all([
      call('PATCH', `/api/v1/users/${secondId}`, { token: tokens.admin, body: { role: 'operator' } }),
      call('PATCH', `/api/v1/users/${adminId}`, { token: second, body: { role: 'operator' } }),
    ]);
    expect(answers.map((answer) => answer.status).filter((status) => status === 200)).toHaveLength(1);
    const winner = answers[0].status === 200 ? tokens.admin : second;
    const users = UserListResponseSchema.parse((await call('GET', '/api/v1/users', { token: winner })).body);
    expect(users.items.filter((user) => user.role === 'admin' && user.disabledAt === null)).toHaveLength(1);
  });
});
