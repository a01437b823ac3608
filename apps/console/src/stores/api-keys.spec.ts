// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useApiKeysStore } from './api-keys';

const SECRET = `abk_aaaaaaaaaaaa_${'s'.repeat(40)}`;

function key(id: string, createdAt: string, overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    id,
    name: `key ${id}`,
    role: 'admin',
    prefix: `abk_${id}`,
    status: 'active',
    createdAt,
    createdBy: 'admin',
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    revokedBy: null,
    ...overrides,
  };
}

describe('API keys store', () => {
  let server: FleetServer;
  let keys: Record<string, ApiKey>;

  useFleetServer((fleet) => {
    keys = {
      bbbbbbbbbbbb: key('bbbbbbbbbbbb', '2026-11-01T00:00:00.000Z', { role: 'viewer' }),
      cccccccccccc: key('cccccccccccc', '2026-11-02T00:00:00.000Z'),
    };
    server = fleet;
    server.route('GET', '/api/v1/api-keys', () => ({ status: 200, body: { items: Object.values(keys) } }));
    server.route('POST', '/api/v1/api-keys', (_req, _url, body) => {
      const request = JSON.parse(body) as { name: string; role: ApiKey['role']; expiresAt?: string };
      if (request.role !== 'viewer' && request.role !== 'operator' && request.role !== 'admin') {
        return { status: 400, body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'role' } };
      }
      const created = key('aaaaaaaaaaaa', '2026-11-03T00:00:00.000Z', {
        name: request.name,
        role: request.role,
        expiresAt: request.expiresAt ?? null,
      });
      keys[created.id] = created;
      return { status: 201, body: { ...created, secret: SECRET } };
    });
    for (const id of ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']) {
      server.route('POST', `/api/v1/api-keys/${id}/revoke`, () => {
        const current = keys[id]!;
        keys[id] = {
          ...current,
          status: 'revoked',
          revokedAt: '2026-11-04T00:00:00.000Z',
          revokedBy: 'admin',
        };
        return { status: 200, body: keys[id] };
      });
    }
    server.route('POST', '/api/v1/api-keys/dddddddddddd/revoke', () => ({
      status: 404,
      body: { statusCode: 404, code: 'API_KEY_NOT_FOUND', message: 'API key abk_dddddddddddd not found' },
    }));
  });

  it('lists keys newest first', async () => {
    const sut = useApiKeysStore();
    await sut.fetchAll();
    expect(sut.loaded).toBe(true);
    expect(sut.all.map((k) => k.id)).toEqual(['cccccccccccc', 'bbbbbbbbbbbb']);
  });

  it('hands the new secret to the caller once and keeps only the listed fields', async () => {
    const sut = useApiKeysStore();
    await sut.fetchAll();
    const created = await sut.create({
      name: 'release CI',
      role: 'admin',
      expiresAt: '2027-01-01T00:00:00.000Z',
    });
    expect(created.secret).toBe(SECRET);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/api/v1/api-keys',
      body: JSON.stringify({ name: 'release CI', role: 'admin', expiresAt: '2027-01-01T00:00:00.000Z' }),
    });
    expect(sut.all[0]).toMatchObject({ id: 'aaaaaaaaaaaa', name: 'release CI', prefix: 'abk_aaaaaaaaaaaa' });
    expect(JSON.stringify(sut.$state)).not.toContain(SECRET);
    expect(sut.all[0]).not.toHaveProperty('secret');
  });

  it('marks a revoked key in place and reports a failed revocation', async () => {
    const sut = useApiKeysStore();
    await sut.fetchAll();
    await sut.revoke('bbbbbbbbbbbb');
    expect(sut.byId.bbbbbbbbbbbb).toMatchObject({ status: 'revoked', revokedBy: 'admin' });
    expect(sut.all).toHaveLength(2);
    await expect(sut.revoke('dddddddddddd')).rejects.toMatchObject({
      code: 'API_KEY_NOT_FOUND',
      statusCode: 404,
    });
  });

  it('keeps the load error for the page and forgets everything on reset', async () => {
    server.route('GET', '/api/v1/api-keys', () => ({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'This action needs the admin role' },
    }));
    const sut = useApiKeysStore();
    await expect(sut.fetchAll()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(sut.error).toMatchObject({ statusCode: 403 });
    sut.reset();
    expect(sut.error).toBeNull();
    expect(sut.all).toEqual([]);
  });
});
