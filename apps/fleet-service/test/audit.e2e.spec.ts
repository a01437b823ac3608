import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { type AuditEntryDto, AuditEntryDtoSchema } from '@agentbox/schemas';
import { AuditEntryRow } from '../src/modules/audit/audit-entry.entity.js';
import { drivers, useFleetApp } from './support/fleet-app.js';

const T0 = Date.parse('2031-03-01T00:00:00Z');
const MINUTE = 60_000;

/** A strict RFC 4180 reader, so the test checks the export's quoting rather than trusting it. */
function parseCsv(withBom: string): string[][] {
  expect(withBom.startsWith('\uFEFF')).toBe(true);
  const text = withBom.slice(1);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === '"' && cell === '') {
      i += 1;
      for (;;) {
        const next = text.indexOf('"', i);
        if (next < 0) throw new Error('unterminated quote');
        cell += text.slice(i, next);
        if (text[next + 1] === '"') {
          cell += '"';
          i = next + 2;
        } else {
          i = next + 1;
          break;
        }
      }
    } else if (char === ',') {
      row.push(cell);
      cell = '';
      i += 1;
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 2;
    } else if (char === '"' || char === '\n' || char === '\r') {
      throw new Error(`bare ${JSON.stringify(char)} at ${i}`);
    } else {
      cell += char;
      i += 1;
    }
  }
  if (cell !== '' || row.length > 0) throw new Error('last row not terminated by CRLF');
  return rows;
}

describe.each(drivers)('audit log filters, pages and CSV export ($name)', (driver) => {
  const skip = driver.skip;
  const app = useFleetApp(driver, 'audit', { signIn: 'admin' });
  const { call, tokens } = app;
  let operator: string;
  let seeded: AuditEntryRow[];

  async function list(query: string, token = tokens.admin) {
    const response = await call('GET', `/api/v1/audit?${query}`, { token });
    expect(response.status, response.text).toBe(200);
    return {
      items: AuditEntryDtoSchema.array().parse(response.body),
      next: response.headers.get('x-next-cursor'),
    };
  }

  /** Every page of a query, following X-Next-Cursor. */
  async function all(query: string): Promise<AuditEntryDto[]> {
    const out: AuditEntryDto[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      out.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return out;
  }

  beforeAll(async () => {
    if (skip) return;
    await call('POST', '/api/v1/users', {
      token: tokens.admin,
      body: { username: 'op1', password: 'operator-password', role: 'operator' },
    });
    operator = await app.login('op1', 'operator-password');
    const row = (
      at: number,
      actor: string,
      action: string,
      targetType: string,
      targetId: string,
      detail = {},
    ) =>
      ({
        id: randomUUID(),
        at,
        actor,
        actorType: actor === 'system' ? 'system' : 'user',
        actorId: null,
        action,
        targetType,
        targetId,
        outcome: action.endsWith('.created') ? 'success' : 'denied',
        status: action.endsWith('.created') ? 201 : 403,
        errorCode: action.endsWith('.created') ? null : 'FORBIDDEN',
        sourceAddress: '192.0.2.7',
        detail,
      }) as AuditEntryRow;
    seeded = [
      row(T0, 'alice', 'release.created', 'release', 'rel_1', { version: '1.0.0' }),
      row(T0 + MINUTE, 'alice', 'release.deleted', 'release', 'rel_1'),
      row(T0 + 2 * MINUTE, 'bob', 'rollout.created', 'rollout', 'ro_1'),
      // Three in the same millisecond: pages must neither drop nor repeat them.
      row(T0 + 3 * MINUTE, 'system', 'rollout.phase-advanced', 'rollout', 'ro_1'),
      row(T0 + 3 * MINUTE, 'system', 'rollout.phase-advanced', 'rollout', 'ro_1'),
      row(T0 + 3 * MINUTE, 'system', 'rollout.phase-advanced', 'rollout', 'ro_1'),
      // Cells a spreadsheet would run, and cells that need quoting.
      row(T0 + 4 * MINUTE, '=HYPERLINK("http://evil.example")', 'api-key.created', 'api-key', '+cmd|x', {
        name: 'comma, "quote"\nnewline',
      }),
      row(T0 + 5 * MINUTE, '@alice', 'release_x.created', 'release', '-1'),
    ];
    const entries = app.running.app.get(DataSource).getRepository(AuditEntryRow);
    // The JSON column goes through its transformer; TypeORM types cannot express that.
    await entries.insert(seeded as never);
  });

  const window = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 10 * MINUTE).toISOString()}`;

  it.skipIf(skip)('filters by time range, actor, action or action prefix, and target', async () => {
    expect((await all(window)).length).toBe(seeded.length);
    const firstTwo = await all(
      `from=${new Date(T0).toISOString()}&to=${encodeURIComponent(new Date(T0 + 2 * MINUTE).toISOString().replace('Z', '+00:00'))}`,
    );
    expect(firstTwo.map((entry) => entry.action)).toEqual(['release.deleted', 'release.created']);
    expect((await all(`${window}&actor=alice`)).map((entry) => entry.action)).toEqual([
      'release.deleted',
      'release.created',
    ]);
    expect((await all(`${window}&action=rollout.created`)).map((entry) => entry.actor)).toEqual(['bob']);
    // `_` in a prefix is a character, not a LIKE wildcard.
    expect((await all(`${window}&action=release.*`)).map((entry) => entry.action)).toEqual([
      'release.deleted',
      'release.created',
    ]);
    expect((await all(`${window}&action=release_*`)).map((entry) => entry.action)).toEqual([
      'release_x.created',
    ]);
    expect((await all(`${window}&targetType=rollout&targetId=ro_1`)).length).toBe(4);
    expect((await all(`${window}&actor=nobody`)).length).toBe(0);
    const denied = await all(`${window}&outcome=denied`);
    expect(denied.map((entry) => [entry.action, entry.allowed, entry.status, entry.errorCode])).toEqual([
      ['rollout.phase-advanced', false, 403, 'FORBIDDEN'],
      ['rollout.phase-advanced', false, 403, 'FORBIDDEN'],
      ['rollout.phase-advanced', false, 403, 'FORBIDDEN'],
      ['release.deleted', false, 403, 'FORBIDDEN'],
    ]);
    expect(denied[0]).toMatchObject({ actorType: 'system', sourceAddress: '192.0.2.7' });
  });

  it.skipIf(skip)('pages newest first with X-Next-Cursor, losing and repeating nothing', async () => {
    const first = await list(`${window}&limit=2`);
    expect(first.items).toHaveLength(2);
    expect(first.next).not.toBeNull();
    const paged = await all(`${window}&limit=2`);
    const whole = (await list(`${window}&limit=100`)).items;
    expect(paged.map((entry) => entry.id)).toEqual(whole.map((entry) => entry.id));
    expect(new Set(paged.map((entry) => entry.id)).size).toBe(seeded.length);
    const times = paged.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // The last page says so.
    expect((await list(`${window}&limit=100`)).next).toBeNull();

    for (const bad of ['cursor=nope', 'from=yesterday', 'action=release%25', 'limit=0']) {
      const response = await call('GET', `/api/v1/audit?${bad}`, { token: tokens.admin });
      expect(response.status, bad).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it.skipIf(skip)(
    'exports the filtered log as CSV for admins, with quoting and formula cells defused',
    async () => {
      expect((await call('GET', `/api/v1/audit/export.csv?${window}`, { token: operator })).status).toBe(403);
      expect((await call('GET', `/api/v1/audit/export.csv?${window}`)).status).toBe(401);

      const response = await call('GET', `/api/v1/audit/export.csv?${window}`, { token: tokens.admin });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="agentbox-audit-[0-9TZ-]+\.csv"$/,
      );
      expect([...response.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const rows = parseCsv(response.text);
      // The first columns keep their places; what came later follows them.
      expect(rows[0]).toEqual([
        'at',
        'actor',
        'action',
        'target_type',
        'target_id',
        'detail',
        'actor_type',
        'actor_id',
        'outcome',
        'status',
        'error_code',
        'source_address',
      ]);
      expect(rows.find((cells) => cells[2] === 'release.deleted')?.slice(6)).toEqual([
        'user',
        '',
        'denied',
        '403',
        'FORBIDDEN',
        '192.0.2.7',
      ]);
      const listed = (await list(`${window}&limit=100`)).items;
      expect(rows.slice(1).map((cells) => [cells[0], cells[2], cells[4]])).toEqual(
        listed.map((entry) => [
          entry.at,
          entry.action,
          /^[=+\-@]/.test(entry.targetId) ? `'${entry.targetId}` : entry.targetId,
        ]),
      );
      const hostile = rows.find((cells) => cells[2] === 'api-key.created')!;
      expect(hostile[1]).toBe(`'=HYPERLINK("http://evil.example")`);
      expect(hostile[4]).toBe("'+cmd|x");
      expect(JSON.parse(hostile[5]!)).toEqual({ name: 'comma, "quote"\nnewline' });
      expect(rows.find((cells) => cells[2] === 'release_x.created')?.slice(1, 5)).toEqual([
        "'@alice",
        'release_x.created',
        'release',
        "'-1",
      ]);
      expect(response.text).not.toMatch(/(^|,|\r\n)[=+\-@]/);

      const filtered = parseCsv(
        (await call('GET', `/api/v1/audit/export.csv?${window}&actor=alice`, { token: tokens.admin })).text,
      );
      expect(filtered.slice(1).map((cells) => cells[2])).toEqual(['release.deleted', 'release.created']);
      expect(
        (await call('GET', '/api/v1/audit/export.csv?to=not-a-date', { token: tokens.admin })).status,
      ).toBe(400);
    },
  );

  it.skipIf(skip)('streams an export longer than one read, chunked, in order', async () => {
    const base = T0 + 20 * MINUTE;
    const many = Array.from({ length: 1_234 }, (_, i) => ({
      id: randomUUID(),
      // Pairs share a millisecond, so page boundaries fall inside ties too.
      at: base + Math.floor(i / 2),
      actor: 'bulk',
      action: 'device.renamed',
      targetType: 'device',
      targetId: `dev-${i}`,
      detail: { i },
    }));
    const entries = app.running.app.get(DataSource).getRepository(AuditEntryRow);
    for (let i = 0; i < many.length; i += 200) await entries.insert(many.slice(i, i + 200));

    const response = await call('GET', '/api/v1/audit/export.csv?actor=bulk', { token: tokens.admin });
    expect(response.status).toBe(200);
    // Streamed: no length known up front.
    expect(response.headers.get('content-length')).toBeNull();
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const rows = parseCsv(response.text).slice(1);
    expect(rows).toHaveLength(many.length);
    const indexes = rows.map((cells) => (JSON.parse(cells[5]!) as { i: number }).i);
    expect(new Set(indexes).size).toBe(many.length);
    const times = rows.map((cells) => Date.parse(cells[0]!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
