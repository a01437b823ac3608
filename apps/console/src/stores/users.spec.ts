// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { UserAccount } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useUsersStore } from './users';

const ALICE = '11111111-1111-4111-8111-111111111111';

function account(id: string, username: string, overrides: Partial<UserAccount> = {}): UserAccount {
  return {
    id,
    username,
    role: 'viewer',
    disabledAt: null,
    createdAt: '2026-11-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('users store', () => {
  let server: FleetServer;

  useFleetServer((fleet) => {
    server = fleet;
    server.route('GET', '/api/v1/users', () => ({
      status: 200,
      body: { items: [account(ALICE, 'alice'), account('a', 'admin', { role: 'admin' })] },
    }));
    server.route('PATCH', `/api/v1/users/${ALICE}`, (_req, _url, body) => ({
      status: 200,
      body: account(ALICE, 'alice', JSON.parse(body) as Partial<UserAccount>),
    }));
    server.route('PATCH', '/api/v1/users/a', () => ({
      status: 409,
      body: { statusCode: 409, code: 'LAST_ADMIN', message: 'admin is the last enabled admin' },
    }));
    server.route('POST', `/api/v1/users/${ALICE}/password-reset`, () => ({
      status: 200,
      body: { password: 'generated-once' },
    }));
    server.route('DELETE', `/api/v1/users/${ALICE}`, () => ({ status: 204 }));
  });

  it('lists users by name, applies a change and keeps a refused one out', async () => {
    const sut = useUsersStore();
    await sut.fetchAll();
    expect(sut.all.map((user) => user.username)).toEqual(['admin', 'alice']);
    await sut.update(ALICE, { role: 'operator' });
    expect(sut.byId[ALICE]?.role).toBe('operator');
    await expect(sut.update('a', { role: 'viewer' })).rejects.toMatchObject({ code: 'LAST_ADMIN' });
    expect(sut.byId.a?.role).toBe('admin');
  });

  it('hands a reset password to the caller without keeping it, and drops a deleted user', async () => {
    const sut = useUsersStore();
    await sut.fetchAll();
    expect(await sut.resetPassword(ALICE)).toBe('generated-once');
    expect(JSON.stringify(sut.$state)).not.toContain('generated-once');
    await sut.remove(ALICE);
    expect(sut.all.map((user) => user.username)).toEqual(['admin']);
  });
});
