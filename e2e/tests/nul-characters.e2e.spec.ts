import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_POSTGRES_URL, dropSchema, randomSchemaName } from '@agentbox/test-support';
import { Platform } from '../support/platform.js';

/**
 * PostgreSQL cannot store NUL (U+0000) in text or jsonb: every request that could carry one to the
 * database is refused with 400 instead of failing there with 500, whatever the field.
 */
describe('NUL characters on PostgreSQL', () => {
  const schema = randomSchemaName('agentbox_e2e_nul');
  const platform = new Platform({ DATABASE_URL: TEST_POSTGRES_URL, AGENTBOX_DB_SCHEMA: schema });

  beforeAll(() => platform.start());

  afterAll(async () => {
    await platform.stop();
    await dropSchema(schema);
  });

  it('refuses a NUL in any JSON body field and in any query string with 400, never 500', async () => {
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/api/v1/claim-tokens', { ttlHours: 1, maxUses: 1, note: 'lab\u0000' }],
      [
        'POST',
        '/api/v1/providers',
        { id: 'nul', name: 'NUL', baseUrl: 'https://api.example.com/v1', models: ['m\u0000'] },
      ],
      ['GET', '/api/v1/devices?q=%00', undefined],
      ['GET', '/api/v1/audit?actor=a%00b', undefined],
    ];
    for (const [method, path, body] of attempts) {
      const response = await platform.api.request<{ code?: string }>(method, path, body);
      expect({ path, status: response.status, code: response.body?.code }).toEqual({
        path,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    const fine = await platform.api.request('GET', '/api/v1/devices?q=kitchen');
    expect(fine.status).toBe(200);
  });
});
