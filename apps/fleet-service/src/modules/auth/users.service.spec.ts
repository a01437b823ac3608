import { JwtService } from '@nestjs/jwt';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { AuditEntryRow } from '../audit/audit-entry.entity.js';
import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from './auth.decorators.js';
import { AuthException } from './auth.exception.js';
import { AuthService } from './auth.service.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

const ADMIN_PASSWORD = 'correct horse battery';

describe('UsersService', () => {
  let db: TestDatabase | undefined;

  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  async function setup() {
    db = await openTestDatabase({ AGENTBOX_ADMIN_PASSWORD: ADMIN_PASSWORD }, [ApiKey, AuditEntryRow]);
    const repository = db.dataSource.getRepository(User);
    const jwt = new JwtService({ secret: 'x'.repeat(40), signOptions: { algorithm: 'HS256' } });
    const audit = new AuditService(db.dataSource.getRepository(AuditEntryRow));
    const apiKeys = new ApiKeysService(db.dataSource.getRepository(ApiKey), repository, audit);
    const sut = new UsersService(repository);
    const auth = new AuthService(repository, jwt, db.config, apiKeys, sut, audit);
    await auth.ensureFirstAdmin();
    const admin = await auth.authenticate(
      (await auth.login({ username: 'admin', password: ADMIN_PASSWORD }, '::1')).accessToken,
    );
    return { sut, auth, admin, apiKeys };
  }

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthException);
    return (error as AuthException).code;
  }

  it('never demotes, disables or deletes the last enabled admin', async () => {
    const { sut, admin } = await setup();
    const other = await sut.createUser({ username: 'ops', password: 'ops-password', role: 'operator' });
    const otherActor: AuthUser = { id: other.id, username: 'ops', role: 'admin' };
    expect(await codeOf(sut.updateUser(admin.id, { role: 'operator' }, admin))).toBe('LAST_ADMIN');
    expect(await codeOf(sut.updateUser(admin.id, { disabled: true }, otherActor))).toBe('LAST_ADMIN');
    expect(await codeOf(sut.deleteUser(admin.id, otherActor))).toBe('LAST_ADMIN');

    // A disabled admin does not count: it could not sign in to manage anyone.
    await sut.updateUser(other.id, { role: 'admin' }, admin);
    await sut.updateUser(other.id, { disabled: true }, admin);
    expect(await codeOf(sut.updateUser(admin.id, { role: 'viewer' }, admin))).toBe('LAST_ADMIN');

    await sut.updateUser(other.id, { disabled: false }, admin);
    await expect(sut.updateUser(admin.id, { role: 'viewer' }, admin)).resolves.toMatchObject({
      username: 'admin',
      role: 'viewer',
      disabledAt: null,
    });
  });

  it('refuses an admin deleting or disabling themselves', async () => {
    const { sut, admin } = await setup();
    await sut.createUser({ username: 'admin2', password: 'admin2-password', role: 'admin' });
    expect(await codeOf(sut.deleteUser(admin.id, admin))).toBe('SELF_CHANGE_REFUSED');
    expect(await codeOf(sut.updateUser(admin.id, { disabled: true }, admin))).toBe('SELF_CHANGE_REFUSED');
    expect(await codeOf(sut.deleteUser('5d1f0c6e-0000-4000-8000-000000000000', admin))).toBe(
      'USER_NOT_FOUND',
    );
  });

  it('refuses a disabled user at login and with a token issued before, until enabled again', async () => {
    const { sut, auth, admin, apiKeys } = await setup();
    const user = await sut.createUser({ username: 'op1', password: 'op1-password', role: 'operator' });
    const { accessToken } = await auth.login({ username: 'op1', password: 'op1-password' }, '::1');
    const signedIn = await auth.authenticate(accessToken);
    const key = await apiKeys.create({ name: 'script', role: 'operator' }, signedIn);

    const disabled = await sut.updateUser(user.id, { disabled: true }, admin);
    expect(disabled.disabledAt).not.toBeNull();
    expect(await codeOf(auth.login({ username: 'op1', password: 'op1-password' }, '::1'))).toBe(
      'USER_DISABLED',
    );
    expect(await codeOf(auth.authenticate(accessToken))).toBe('UNAUTHENTICATED');
    await expect(auth.authenticate(key.secret)).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
    // Only the right password learns that the user is disabled.
    expect(await codeOf(auth.login({ username: 'op1', password: 'wrong-password' }, '::1'))).toBe(
      'INVALID_CREDENTIALS',
    );

    await sut.updateUser(user.id, { disabled: false }, admin);
    await expect(auth.authenticate(accessToken)).resolves.toMatchObject({ username: 'op1' });
  });

  it('resets a password to a generated one and ends the sessions issued before', async () => {
    const { sut, auth } = await setup();
    const user = await sut.createUser({ username: 'v1', password: 'v1-password', role: 'viewer' });
    const { accessToken } = await auth.login({ username: 'v1', password: 'v1-password' }, '::1');
    const { password } = await sut.resetPassword(user.id);
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(await codeOf(auth.authenticate(accessToken))).toBe('UNAUTHENTICATED');
    expect(await codeOf(auth.login({ username: 'v1', password: 'v1-password' }, '::1'))).toBe(
      'INVALID_CREDENTIALS',
    );
    await expect(auth.login({ username: 'v1', password }, '::1')).resolves.toMatchObject({
      user: { username: 'v1', role: 'viewer' },
    });
  });

  it('changes your own password given the current one, keeping you signed in with a new session', async () => {
    const { auth, admin } = await setup();
    const old = await auth.login({ username: 'admin', password: ADMIN_PASSWORD }, '::1');
    expect(
      await codeOf(
        auth.changePassword(admin, { currentPassword: 'not it', newPassword: 'a new password' }, '::1'),
      ),
    ).toBe('CURRENT_PASSWORD_WRONG');
    const fresh = await auth.changePassword(
      admin,
      { currentPassword: ADMIN_PASSWORD, newPassword: 'a new password' },
      '::1',
    );
    await expect(auth.authenticate(fresh.accessToken)).resolves.toMatchObject({ username: 'admin' });
    expect(await codeOf(auth.authenticate(old.accessToken))).toBe('UNAUTHENTICATED');
    await expect(auth.login({ username: 'admin', password: 'a new password' }, '::1')).resolves.toBeTruthy();
  });
});
