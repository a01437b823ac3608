// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { Hook } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useHooksStore } from './hooks';

const SECRET = `abh_${'s'.repeat(43)}`;
const ROTATED = `abh_${'r'.repeat(43)}`;

function hook(id: string, createdAt: string, overrides: Partial<Hook> = {}): Hook {
  return {
    id,
    name: `hook ${id}`,
    agentId: 'triage',
    deviceId: 'box-1',
    url: `http://fleet.example/api/v1/hooks/${id}/invoke`,
    deliveryTtlSec: 3600,
    createdAt,
    createdBy: 'operator',
    secretRotatedAt: createdAt,
    lastInvokedAt: null,
    deliveries: { queued: 0, delivered: 0, expired: 0, failed: 0 },
    ...overrides,
  };
}

describe('hooks store', () => {
  let server: FleetServer;
  let hooks: Record<string, Hook>;

  useFleetServer((fleet) => {
    hooks = {
      bbbbbbbbbbbbbbbb: hook('bbbbbbbbbbbbbbbb', '2026-11-01T00:00:00.000Z'),
      cccccccccccccccc: hook('cccccccccccccccc', '2026-11-02T00:00:00.000Z', {
        deliveries: { queued: 1, delivered: 0, expired: 2, failed: 0 },
      }),
    };
    server = fleet;
    server.route('GET', '/api/v1/hooks', () => ({ status: 200, body: { items: Object.values(hooks) } }));
    server.route('POST', '/api/v1/hooks', (_req, _url, body) => {
      const request = JSON.parse(body) as { name: string; agentId: string; deviceId: string };
      const created = hook('aaaaaaaaaaaaaaaa', '2026-11-03T00:00:00.000Z', request);
      hooks[created.id] = created;
      return { status: 201, body: { ...created, secret: SECRET } };
    });
    server.route('POST', '/api/v1/hooks/bbbbbbbbbbbbbbbb/secret', () => ({
      status: 200,
      body: { ...hooks.bbbbbbbbbbbbbbbb!, secret: ROTATED },
    }));
    server.route('DELETE', '/api/v1/hooks/bbbbbbbbbbbbbbbb', () => ({ status: 204, body: '' }));
    server.route('GET', '/api/v1/hooks/cccccccccccccccc/deliveries', () => ({
      status: 200,
      body: {
        items: [
          {
            id: 'd1',
            hookId: 'cccccccccccccccc',
            status: 'expired',
            createdAt: '2026-11-02T00:00:00.000Z',
            expiresAt: '2026-11-02T01:00:00.000Z',
            deliveredAt: null,
            runId: null,
            error: 'expired',
            bytes: 2,
          },
        ],
      },
    }));
  });

  it('lists hooks newest first, hands out a secret once and never keeps it', async () => {
    const sut = useHooksStore();
    await sut.fetchAll();
    expect(sut.all.map((item) => item.id)).toEqual(['cccccccccccccccc', 'bbbbbbbbbbbbbbbb']);

    const created = await sut.create({ name: 'Tickets', agentId: 'triage', deviceId: 'box-1' });
    expect(created.secret).toBe(SECRET);
    expect(sut.all[0]?.id).toBe('aaaaaaaaaaaaaaaa');
    const rotated = await sut.rotateSecret('bbbbbbbbbbbbbbbb');
    expect(rotated.secret).toBe(ROTATED);
    expect(JSON.stringify(sut.byId)).not.toContain(SECRET);
    expect(JSON.stringify(sut.byId)).not.toContain(ROTATED);

    await sut.remove('bbbbbbbbbbbbbbbb');
    expect(sut.all.map((item) => item.id)).toEqual(['aaaaaaaaaaaaaaaa', 'cccccccccccccccc']);
    expect((await sut.deliveries('cccccccccccccccc')).map((item) => item.status)).toEqual(['expired']);
  });
});
