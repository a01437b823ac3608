// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';
import { ApiRequestError } from '@/api/errors';
import type { Device } from '@/api/types';
import { useFleetServer, FleetServer, makeDevice } from '@/testing/fleet-server';
import { compareDevices, LIST_PAGE, matchesFilter, useDevicesStore } from './devices';

describe('devices store', () => {
  let server: FleetServer;
  let devices: Record<string, Device>;

  useFleetServer((fleet) => {
    devices = {
      a: makeDevice('a', {
        name: 'alpha',
        online: true,
        lastSeenAt: '2026-11-27T10:00:00.000Z',
        tags: ['lab'],
        agentVersion: '0.10.0',
      }),
      b: makeDevice('b', {
        name: 'bravo',
        online: false,
        lastSeenAt: '2026-11-27T09:00:00.000Z',
        tags: ['lab', 'edge'],
        agentVersion: '0.9.1',
      }),
      c: makeDevice('c', {
        name: 'charlie',
        online: false,
        lastSeenAt: null,
        agentVersion: null,
        hardware: null,
      }),
    };
    server = fleet;
    server.route('GET', '/api/v1/devices', () => ({
      status: 200,
      body: { items: Object.values(devices), total: Object.keys(devices).length },
    }));
    for (const id of ['a', 'b', 'c', 'd']) {
      server.route('GET', `/api/v1/devices/${id}`, () =>
        devices[id]
          ? { status: 200, body: devices[id] }
          : {
              status: 404,
              body: { statusCode: 404, code: 'DEVICE_NOT_FOUND', message: `device ${id} not found` },
            },
      );
    }
  });

  it('creates a claim token with where boxes enrol, and falls back to this origin when the service cannot say', async () => {
    const token = {
      id: 't1',
      token: 'abx_claim',
      note: null,
      createdAt: '2026-12-01T00:00:00.000Z',
      expiresAt: '2026-12-02T00:00:00.000Z',
      maxUses: 2,
      uses: 0,
      revokedAt: null,
      createdBy: 'admin',
      state: 'active',
    };
    server.route('POST', '/api/v1/claim-tokens', () => ({ status: 201, body: token }));
    server.route('GET', '/api/v1/enrollment', () => ({
      status: 200,
      body: { fleetUrl: 'https://fleet.example', mqttUrl: 'mqtts://fleet.example:8883' },
    }));
    const sut = useDevicesStore();
    const created = await sut.createClaimToken({ ttlHours: 24, maxUses: 2 });
    expect(created).toEqual({
      token,
      enrollment: { fleetUrl: 'https://fleet.example', mqttUrl: 'mqtts://fleet.example:8883' },
    });
    expect(server.requests.find((r) => r.method === 'POST')?.body).toBe('{"ttlHours":24,"maxUses":2}');

    server.route('GET', '/api/v1/enrollment', () => ({
      status: 500,
      body: { statusCode: 500, message: 'x' },
    }));
    // This spec runs in node: the page the console is served from is stood in for.
    vi.stubGlobal('window', { location: { origin: 'https://console.example' } });
    try {
      const fallback = await sut.createClaimToken({ ttlHours: 1, maxUses: 1 });
      expect(fallback.enrollment).toEqual({ fleetUrl: 'https://console.example', mqttUrl: '' });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('loads the fleet and counts online and offline boxes', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    expect(sut.loaded).toBe(true);
    expect(sut.counts).toEqual({ total: 3, online: 1, offline: 2 });
    expect(sut.visible.map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(sut.allTags).toEqual(['edge', 'lab']);
  });

  it('filters by text, status and tag, and says when a filter is on', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    expect(sut.isFiltered).toBe(false);

    sut.setFilter({ text: 'HOST-B' });
    expect(sut.visible.map((d) => d.id)).toEqual(['b']);
    expect(sut.isFiltered).toBe(true);

    sut.setFilter({ text: '', status: 'offline' });
    expect(sut.visible.map((d) => d.id)).toEqual(['b', 'c']);

    sut.setFilter({ status: 'all', tag: 'lab' });
    expect(sut.visible.map((d) => d.id)).toEqual(['a', 'b']);

    sut.setFilter({ tag: 'edge', status: 'online' });
    expect(sut.visible).toEqual([]);
    // Counts describe the fleet, not the filtered view.
    expect(sut.counts.total).toBe(3);

    sut.clearFilter();
    expect(sut.visible).toHaveLength(3);
    expect(sut.isFiltered).toBe(false);
  });

  it('sorts by each column, keeping boxes without a value last in both orders', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();

    sut.setSort('lastSeen', 'desc');
    expect(sut.visible.map((d) => d.id)).toEqual(['a', 'b', 'c']);
    sut.setSort('lastSeen', 'asc');
    expect(sut.visible.map((d) => d.id)).toEqual(['b', 'a', 'c']);

    // Versions compare numerically: 0.10.0 is newer than 0.9.1.
    sut.setSort('agentVersion', 'asc');
    expect(sut.visible.map((d) => d.id)).toEqual(['b', 'a', 'c']);
    sut.setSort('agentVersion', 'desc');
    expect(sut.visible.map((d) => d.id)).toEqual(['a', 'b', 'c']);

    sut.setSort('status', 'desc');
    expect(sut.visible[0]?.id).toBe('a');
    sut.setSort('hostname', 'desc');
    expect(sut.visible.map((d) => d.id)).toEqual(['b', 'a', 'c']);
    sut.setSort('name', 'desc');
    expect(sut.visible.map((d) => d.id)).toEqual(['c', 'b', 'a']);
  });

  it('applies a live status change without refetching', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    const before = server.requests.length;

    await sut.applyLiveEvent({
      type: 'device.status',
      deviceId: 'b',
      online: true,
      lastSeenAt: '2026-11-27T11:00:00.000Z',
    });

    expect(sut.get('b')?.online).toBe(true);
    expect(sut.get('b')?.lastSeenAt).toBe('2026-11-27T11:00:00.000Z');
    expect(sut.counts).toEqual({ total: 3, online: 2, offline: 1 });
    expect(server.requests.length).toBe(before);

    sut.setFilter({ status: 'online' });
    expect(sut.visible.map((d) => d.id)).toEqual(['a', 'b']);
  });

  it('never moves last seen backwards on an out-of-order event', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    await sut.applyLiveEvent({
      type: 'device.status',
      deviceId: 'a',
      online: false,
      lastSeenAt: '2026-11-27T08:00:00.000Z',
    });
    expect(sut.get('a')?.online).toBe(false);
    expect(sut.get('a')?.lastSeenAt).toBe('2026-11-27T10:00:00.000Z');
  });

  it('fetches a box it has not listed yet when its status arrives', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    devices.d = makeDevice('d', { name: 'delta', online: true });

    await sut.applyLiveEvent({ type: 'device.status', deviceId: 'd', online: true, lastSeenAt: null });

    expect(sut.get('d')?.name).toBe('delta');
    expect(sut.counts.total).toBe(4);
  });

  it('refetches a device on device.updated and drops it when the server no longer knows it', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    devices.a = { ...devices.a!, name: 'alpha-renamed', tags: ['prod'] };

    await sut.applyLiveEvent({ type: 'device.updated', deviceId: 'a' });
    expect(sut.get('a')?.name).toBe('alpha-renamed');
    expect(sut.allTags).toEqual(['edge', 'lab', 'prod']);
    expect(server.requests.at(-1)?.path).toBe('/api/v1/devices/a');

    delete devices.a;
    await sut.applyLiveEvent({ type: 'device.updated', deviceId: 'a' });
    expect(sut.get('a')).toBeUndefined();
    expect(sut.counts.total).toBe(2);
  });

  it('moves last seen forward on live telemetry', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    const ts = Date.parse('2026-11-27T12:00:00.000Z');
    await sut.applyLiveEvent({
      type: 'telemetry',
      deviceId: 'b',
      samples: [{ ts, values: { 'cpu.usage_pct': 5 } }],
    });
    expect(sut.get('b')?.lastSeenAt).toBe('2026-11-27T12:00:00.000Z');
    // Telemetry alone does not decide online/offline; the status topic does.
    expect(sut.get('b')?.online).toBe(false);
  });

  it('keeps a live status that arrived while an older list was on its way', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stale = Object.values(devices).map((d) => ({ ...d }));
    server.route('GET', '/api/v1/devices', async () => {
      await gate;
      return { status: 200, body: { items: stale, total: stale.length } };
    });

    const refetch = sut.fetchAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sut.applyLiveEvent({
      type: 'device.status',
      deviceId: 'b',
      online: true,
      lastSeenAt: '2026-11-27T11:00:00.000Z',
    });
    release();
    await refetch;

    expect(sut.get('b')?.online).toBe(true);
    expect(sut.get('b')?.lastSeenAt).toBe('2026-11-27T11:00:00.000Z');
  });

  it('saves tags with PATCH and stores the answer', async () => {
    server.route('PATCH', '/api/v1/devices/b', (_req, _url, body) => {
      const patch = JSON.parse(body) as { tags: string[] };
      devices.b = { ...devices.b!, tags: patch.tags };
      return { status: 200, body: devices.b };
    });
    const sut = useDevicesStore();
    await sut.fetchAll();

    await sut.update('b', { tags: ['edge'] });

    expect(sut.get('b')?.tags).toEqual(['edge']);
    expect(JSON.parse(server.requests.at(-1)!.body)).toEqual({ tags: ['edge'] });
  });

  it('walks every page of a large fleet', async () => {
    const many = Array.from({ length: 2_050 }, (_, i) =>
      makeDevice(`n${String(i).padStart(4, '0')}`, { online: i % 2 === 0 }),
    );
    server.route('GET', '/api/v1/devices', (_req, url) => {
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      if (limit > LIST_PAGE)
        return { status: 400, body: { statusCode: 400, code: 'VALIDATION_FAILED', message: 'limit' } };
      return { status: 200, body: { items: many.slice(offset, offset + limit), total: many.length } };
    });
    const sut = useDevicesStore();
    await sut.fetchAll();
    expect(sut.counts).toEqual({ total: 2_050, online: 1_025, offline: 1_025 });
    expect(server.requests.filter((r) => r.path.startsWith('/api/v1/devices?'))).toHaveLength(3);
  });

  it('reports a failed list load as an ApiRequestError and keeps what it had', async () => {
    const sut = useDevicesStore();
    await sut.fetchAll();
    server.route('GET', '/api/v1/devices', () => ({
      status: 503,
      body: { statusCode: 503, code: 'DATABASE_UNAVAILABLE', message: 'database is down' },
    }));

    await expect(sut.fetchAll()).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE', statusCode: 503 });
    expect(sut.error).toBeInstanceOf(ApiRequestError);
    expect(sut.counts.total).toBe(3);
    expect(sut.loading).toBe(false);
  });
});

describe('device ordering and matching helpers', () => {
  it('breaks ties by name so the order is stable', () => {
    const x = makeDevice('x', { name: 'same', online: true });
    const y = makeDevice('y', { name: 'same', online: true });
    expect(compareDevices(x, y, 'status', 'asc')).toBeLessThan(0);
    expect(compareDevices(x, y, 'status', 'desc')).toBeLessThan(0);
  });

  it('matches hardware id and tags in the text search', () => {
    const device = makeDevice('z', { tags: ['rack-7'] });
    expect(matchesFilter(device, { text: 'rack-7', status: 'all', tag: null })).toBe(true);
    expect(matchesFilter(device, { text: 'hw-z', status: 'all', tag: null })).toBe(true);
    expect(matchesFilter(device, { text: 'nope', status: 'all', tag: null })).toBe(false);
  });
});
