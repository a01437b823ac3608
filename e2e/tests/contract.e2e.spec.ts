import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../support/platform.js';
import { repoRoot } from '../support/processes.js';

interface Operation {
  security?: Array<Record<string, string[]>>;
  responses: Record<string, unknown>;
}
interface OpenApiDocument {
  servers?: Array<{ url: string }>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, { enum?: unknown[] }> }> };
}

const fleetServiceDir = join(repoRoot, 'apps/fleet-service');

/** The API's published contract, held to the linters a client's tooling would apply. */
describe('contract', () => {
  const platform = new Platform();
  let document: OpenApiDocument;

  beforeAll(async () => {
    await platform.start();
    document = (await (await fetch(`${platform.fleet.url}/api/docs-json`)).json()) as OpenApiDocument;
  });

  afterAll(() => platform.stop());

  it('the committed OpenAPI document passes the strict linter (apps/fleet-service/redocly.yaml)', () => {
    const lint = spawnSync(join(repoRoot, 'node_modules/.bin/redocly'), ['lint', 'openapi.json'], {
      cwd: fleetServiceDir,
      encoding: 'utf8',
    });
    expect(lint.status, `${lint.stdout}\n${lint.stderr}`).toBe(0);
  });

  it('declares a server and, on every operation, its security, which the service keeps to', async () => {
    expect(document.servers?.length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect({ method, path, security: operation.security }).toEqual({
          method,
          path,
          security: expect.any(Array),
        });
        if (method !== 'get' && method !== 'post') continue;
        // Path parameters get a value of the right shape that names nothing.
        const url = `${platform.fleet.url}${path.replace(/\{[^}]+\}/g, 'no-such-thing')}`;
        const response = await fetch(url, {
          method: method.toUpperCase(),
          ...(method === 'post' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
        });
        await response.body?.cancel();
        // A public route never asks for a token; one that needs a token never answers without one
        // (it may refuse the made-up parameter first).
        const outcome =
          response.status === 401 ? 'needs a token' : response.status < 400 ? 'answered' : 'refused';
        const expected =
          operation.security!.length === 0 ? ['answered', 'refused'] : ['needs a token', 'refused'];
        expect({ method, path, outcome }).toEqual({ method, path, outcome: expect.toBeOneOf(expected) });
      }
    }
  });

  it('documents the null GET /api/v1/usage sends for groupBy', async () => {
    const usage = await platform.api.request<{ groupBy: unknown }>('GET', '/api/v1/usage');
    expect(usage.status).toBe(200);
    expect(usage.body.groupBy).toBeNull();
    expect(document.components.schemas.UsageResponse?.properties?.groupBy?.enum).toContain(null);
  });

  it('serves /metrics that passes promtool check metrics', async () => {
    // promtool comes with Debian's prometheus package, which .ci/run installs.
    const promtool = spawnSync('promtool', ['check', 'metrics'], {
      input: await platform.api.metrics(),
      encoding: 'utf8',
    });
    expect(promtool.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
    expect({ status: promtool.status, problems: `${promtool.stdout}${promtool.stderr}` }).toEqual({
      status: 0,
      problems: '',
    });
  });
});
