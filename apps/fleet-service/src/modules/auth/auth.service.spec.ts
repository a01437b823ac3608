import { JwtService } from '@nestjs/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { AuditEntryRow } from '../audit/audit-entry.entity.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthException } from './auth.exception.js';
import { AuthService } from './auth.service.js';
import { ADDRESS_FAILURES_PER_WINDOW, LOGIN_FAILURES_PER_WINDOW } from './login-throttle.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

describe('AuthService', () => {
  let db: TestDatabase | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await db?.close();
    db = undefined;
  });

  async function setup(env: Record<string, string> = {}) {
    db = await openTestDatabase(env, [ApiKey, AuditEntryRow]);
    const jwt = new JwtService({ secret: 'x'.repeat(40), signOptions: { algorithm: 'HS256' } });
    const audit = new AuditService(db.dataSource.getRepository(AuditEntryRow));
    const apiKeys = new ApiKeysService(
      db.dataSource.getRepository(ApiKey),
      db.dataSource.getRepository(User),
      audit,
    );
    const accounts = new UsersService(db.dataSource.getRepository(User));
    const sut = new AuthService(db.dataSource.getRepository(User), jwt, db.config, apiKeys, accounts, audit);
    return {
      sut,
      jwt,
      accounts,
      apiKeys,
      users: db.dataSource.getRepository(User),
      audit: db.dataSource.getRepository(AuditEntryRow),
    };
  }

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthException);
    return (error as AuthException).code;
  }

  it('creates the first admin from AGENTBOX_ADMIN_PASSWORD, hashed with argon2id', async () => {
    const { sut, users } = await setup({ AGENTBOX_ADMIN_PASSWORD: 'correct horse battery' });
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await sut.ensureFirstAdmin();
    await sut.ensureFirstAdmin();

    const all = await users.find();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ username: 'admin', role: 'admin' });
    expect(all[0]!.passwordHash.startsWith('$argon2id$')).toBe(true);
    expect(stdout.mock.calls.map(([chunk]) => String(chunk)).join('')).not.toContain('Admin login');

    const login = await sut.login({ username: 'admin', password: 'correct horse battery' }, '10.0.0.1');
    expect(login).toMatchObject({ tokenType: 'Bearer', user: { username: 'admin', role: 'admin' } });
    expect(await sut.authenticate(login.accessToken)).toMatchObject({ username: 'admin', role: 'admin' });
  });

  it('prints a generated admin password once, in a banner', async () => {
    const { sut } = await setup();
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    await sut.ensureFirstAdmin();
    await sut.ensureFirstAdmin();
    const printed = lines.join('');
    const match = /Admin login: admin \/ (\S+)/.exec(printed);
    expect(match).not.toBeNull();
    expect(printed.match(/Admin login/g)).toHaveLength(1);
    vi.restoreAllMocks();
    await expect(sut.login({ username: 'admin', password: match![1]! }, '::1')).resolves.toBeTruthy();
  });

  it('refuses wrong passwords and unknown users alike, then throttles the username and address', async () => {
    const { sut, audit } = await setup({ AGENTBOX_ADMIN_PASSWORD: 'correct horse battery' });
    await sut.ensureFirstAdmin();
    expect(await codeOf(sut.login({ username: 'admin', password: 'wrong' }, '10.0.0.2'))).toBe(
      'INVALID_CREDENTIALS',
    );
    expect(await codeOf(sut.login({ username: 'nobody', password: 'wrong' }, '10.0.0.2'))).toBe(
      'INVALID_CREDENTIALS',
    );
    for (let i = 1; i < LOGIN_FAILURES_PER_WINDOW; i += 1) {
      await sut.login({ username: 'admin', password: 'wrong' }, '10.0.0.2').catch(() => undefined);
    }
    // Even the right password is refused while throttled...
    expect(
      await codeOf(sut.login({ username: 'admin', password: 'correct horse battery' }, '10.0.0.2')),
    ).toBe('TOO_MANY_ATTEMPTS');
    // ...but only for that address.
    await expect(
      sut.login({ username: 'admin', password: 'correct horse battery' }, '10.0.0.3'),
    ).resolves.toBeTruthy();

    // Every attempt is audited: failures under nobody, with the name tried and why, never the password.
    const entries = await audit.find({ order: { at: 'ASC' } });
    const reasons = entries.map((entry) => [
      entry.action,
      entry.actorType,
      entry.targetId,
      entry.detail.reason,
    ]);
    expect(reasons.slice(0, 2)).toEqual([
      ['auth.login-failed', 'anonymous', 'admin', 'wrong-password'],
      ['auth.login-failed', 'anonymous', 'nobody', 'unknown-user'],
    ]);
    expect(reasons.at(-2)).toEqual(['auth.login-failed', 'anonymous', 'admin', 'throttled']);
    expect(entries.at(-1)).toMatchObject({ action: 'auth.login', actor: 'admin', actorType: 'user' });
    expect(JSON.stringify(entries)).not.toContain('correct horse battery');
  });

  it('stops one address spraying a password over many usernames, and only that address', async () => {
    const { sut } = await setup({ AGENTBOX_ADMIN_PASSWORD: 'correct horse battery' });
    await sut.ensureFirstAdmin();
    for (let i = 0; i < ADDRESS_FAILURES_PER_WINDOW; i += 1) {
      // Each username well under its own limit: only the address count can stop this.
      expect(await codeOf(sut.login({ username: `user${i}`, password: 'Summer2026!' }, '10.0.0.9'))).toBe(
        'INVALID_CREDENTIALS',
      );
    }
    expect(await codeOf(sut.login({ username: 'admin', password: 'Summer2026!' }, '10.0.0.9'))).toBe(
      'TOO_MANY_ATTEMPTS',
    );
    // The real admin, from anywhere else, is not locked out.
    await expect(
      sut.login({ username: 'admin', password: 'correct horse battery' }, '10.0.0.10'),
    ).resolves.toBeTruthy();
  });

  it('refuses a signed access token that never expires', async () => {
    const { sut, jwt } = await setup({ AGENTBOX_ADMIN_PASSWORD: 'correct horse battery' });
    await sut.ensureFirstAdmin();
    const { accessToken } = await sut.login({ username: 'admin', password: 'correct horse battery' }, '::1');
    const claims = jwt.decode<{ sub: string; username: string; role: string; exp?: number }>(accessToken);
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
    await expect(sut.authenticate(accessToken)).resolves.toMatchObject({ username: 'admin' });
    const forever = await jwt.signAsync({ sub: claims.sub, username: claims.username, role: claims.role });
    expect(jwt.decode<{ exp?: number }>(forever).exp).toBeUndefined();
    expect(await codeOf(sut.authenticate(forever))).toBe('UNAUTHENTICATED');
  });

  it('rejects tampered tokens, tokens of deleted users and duplicate usernames', async () => {
    const { sut, jwt, users, accounts } = await setup({ AGENTBOX_ADMIN_PASSWORD: 'correct horse battery' });
    await accounts.createUser({ username: 'viewer1', password: 'viewer-password', role: 'viewer' });
    const { accessToken } = await sut.login({ username: 'viewer1', password: 'viewer-password' }, '::1');
    expect(await codeOf(sut.authenticate(`${accessToken}x`))).toBe('UNAUTHENTICATED');
    const foreign = await new JwtService({ secret: 'y'.repeat(40) }).signAsync({
      sub: 'x',
      username: 'a',
      role: 'admin',
    });
    expect(await codeOf(sut.authenticate(foreign))).toBe('UNAUTHENTICATED');
    expect(jwt.decode<{ role: string }>(accessToken).role).toBe('viewer');
    expect(
      await codeOf(accounts.createUser({ username: 'viewer1', password: 'another-pass', role: 'admin' })),
    ).toBe('USERNAME_TAKEN');
    await users.delete({ username: 'viewer1' });
    expect(await codeOf(sut.authenticate(accessToken))).toBe('UNAUTHENTICATED');
  });
});
