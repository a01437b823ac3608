// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '@/api/types';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { useAuditStore } from './audit';

const T0 = Date.parse('2026-11-27T10:00:00.000Z');

/** 7 entries, newest first, like the fleet service answers. */
const ENTRIES: AuditEntry[] = Array.from({ length: 7 }, (_, i) => ({
  id: `00000000-0000-0000-0000-00000000000${i}`,
  at: new Date(T0 - i * 60_000).toISOString(),
  actor: i % 2 === 0 ? 'admin' : 'abk_aaaaaaaaaaaa',
  actorType: i % 2 === 0 ? 'user' : 'api-key',
  actorId: i % 2 === 0 ? 'u1' : 'aaaaaaaaaaaa',
  action: i % 3 === 0 ? 'release.created' : 'rollout.started',
  targetType: i % 3 === 0 ? 'release' : 'rollout',
  targetId: `t${i}`,
  outcome: 'success',
  allowed: true,
  status: 201,
  errorCode: null,
  sourceAddress: '192.0.2.1',
  detail: {},
}));

describe('audit store', () => {
  let server: FleetServer;

  useFleetServer((fleet) => {
    server = fleet;
    // A faithful stand-in: filters, then pages by an opaque cursor in X-Next-Cursor.
    server.route('GET', '/api/v1/audit', (_req, url) => {
      const q = url.searchParams;
      const limit = Number(q.get('limit') ?? 100);
      const matching = ENTRIES.filter(
        (e) =>
          (!q.get('actor') || e.actor === q.get('actor')) &&
          (!q.get('action') || e.action === q.get('action')) &&
          (!q.get('from') || Date.parse(e.at) >= Date.parse(q.get('from')!)),
      );
      const start = q.get('cursor') ? matching.findIndex((e) => e.id === q.get('cursor')) + 1 : 0;
      const page = matching.slice(start, start + limit);
      const more = start + limit < matching.length;
      return {
        status: 200,
        body: page,
        ...(more ? { headers: { 'x-next-cursor': page.at(-1)!.id } } : {}),
      };
    });
    server.route('GET', '/api/v1/audit/export.csv', () => ({
      status: 200,
      raw: 'at,actor\r\n2026-11-27T10:00:00.000Z,admin\r\n',
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': 'attachment; filename="agentbox-audit-2026.csv"',
      },
    }));
  });

  const ids = (entries: readonly AuditEntry[]) => entries.map((e) => e.targetId);

  it('walks older and newer pages with the cursors the fleet service hands out', async () => {
    const sut = useAuditStore();
    await sut.search({}, 3);
    expect(ids(sut.items)).toEqual(['t0', 't1', 't2']);
    expect([sut.page, sut.hasNewer, sut.hasOlder]).toEqual([0, false, true]);
    await sut.older();
    expect(ids(sut.items)).toEqual(['t3', 't4', 't5']);
    await sut.older();
    expect(ids(sut.items)).toEqual(['t6']);
    expect([sut.page, sut.hasOlder]).toEqual([2, false]);
    await sut.older();
    expect(sut.page).toBe(2);
    await sut.newer();
    expect(ids(sut.items)).toEqual(['t3', 't4', 't5']);
    await sut.newer();
    expect(ids(sut.items)).toEqual(['t0', 't1', 't2']);
    expect(server.requests.map((r) => new URL(r.path, 'http://x').searchParams.get('cursor'))).toEqual([
      null,
      ENTRIES[2]!.id,
      ENTRIES[5]!.id,
      ENTRIES[2]!.id,
      null,
    ]);
  });

  it('sends only the filters that are set and starts over from the newest page', async () => {
    const sut = useAuditStore();
    await sut.search({}, 3);
    await sut.older();
    await sut.search({
      actor: ' admin ',
      action: '',
      targetId: undefined,
      from: new Date(T0 - 3 * 60_000).toISOString(),
    });
    expect(sut.filtered).toBe(true);
    expect(sut.page).toBe(0);
    expect(ids(sut.items)).toEqual(['t0', 't2']);
    const query = new URL(server.requests.at(-1)!.path, 'http://x').searchParams;
    expect([...query.keys()].sort()).toEqual(['actor', 'from', 'limit']);
    expect(query.get('actor')).toBe('admin');

    await sut.search({ outcome: 'denied' });
    const refused = new URL(server.requests.at(-1)!.path, 'http://x').searchParams;
    expect([...refused.keys()].sort()).toEqual(['limit', 'outcome']);
    expect(refused.get('outcome')).toBe('denied');
  });

  it('exports the filtered log as a CSV file named by the fleet service', async () => {
    const sut = useAuditStore();
    await sut.search({ action: 'release.created' });
    const file = await sut.exportCsv();
    expect(file.filename).toBe('agentbox-audit-2026.csv');
    expect(await file.blob.text()).toBe('at,actor\r\n2026-11-27T10:00:00.000Z,admin\r\n');
    expect(server.requests.at(-1)!.path).toBe('/api/v1/audit/export.csv?action=release.created');
  });

  it('reports a refused export and a failed page without losing the page on screen', async () => {
    const sut = useAuditStore();
    await sut.search({}, 3);
    server.route('GET', '/api/v1/audit/export.csv', () => ({
      status: 403,
      body: { statusCode: 403, code: 'FORBIDDEN', message: 'This action needs the admin role' },
    }));
    await expect(sut.exportCsv()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    server.route('GET', '/api/v1/audit', () => ({
      status: 400,
      body: {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: 'Invalid request: from: Invalid ISO datetime',
      },
    }));
    await expect(sut.older()).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(sut.error).toMatchObject({ statusCode: 400 });
    expect(ids(sut.items)).toEqual(['t0', 't1', 't2']);
    sut.reset();
    expect([sut.items.length, sut.loaded, sut.error]).toEqual([0, false, null]);
  });
});
