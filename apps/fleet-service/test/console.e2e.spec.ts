import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { drivers, useFleetApp } from './support/fleet-app.js';

const sqlite = drivers.find((driver) => driver.name === 'sqlite')!;

describe('console serving and readiness', () => {
  const app = useFleetApp(sqlite, 'console', {
    env: (dataDir) => {
      const consoleDir = join(dataDir, 'console');
      mkdirSync(join(consoleDir, 'assets'), { recursive: true });
      writeFileSync(
        join(consoleDir, 'index.html'),
        '<!doctype html><title>console</title><div id="app"></div>',
      );
      writeFileSync(join(consoleDir, 'assets', 'app.js'), 'console.log("app");');
      return { AGENTBOX_CONSOLE_DIR: consoleDir };
    },
  });

  const get = (path: string) => fetch(`${app.base}${path}`);

  it('serves the built files, and index.html for client-side routes', async () => {
    const asset = await get('/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(await asset.text()).toBe('console.log("app");');

    for (const path of ['/', '/devices', '/devices/box-abc?tab=telemetry']) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('<div id="app">');
    }
  });

  it('never answers API or operational paths with the page', async () => {
    for (const path of ['/api/v1/nothing', '/api', '/metrics/x', '/healthz/x']) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    }
    expect((await get('/healthz')).status).toBe(200);
  });

  it('reports 503 with the failing check when the database is gone, and stays live', async () => {
    expect((await get('/readyz')).status).toBe(200);
    await app.running.app.get(DataSource).destroy();
    const response = await get('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'down', broker: 'up' },
    });
    expect((await get('/healthz')).status).toBe(200);
  });
});
