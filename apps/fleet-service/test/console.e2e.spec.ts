import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type RunningApp } from '../src/app.js';
import { PinoLoggerService } from '@agentbox/logging';
import { AppConfig } from '../src/config/app-config.js';

describe('console serving and readiness', () => {
  let dataDir: string;
  let running: RunningApp;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'agentbox-console-'));
    const consoleDir = join(dataDir, 'console');
    mkdirSync(join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(
      join(consoleDir, 'index.html'),
      '<!doctype html><title>console</title><div id="app"></div>',
    );
    writeFileSync(join(consoleDir, 'assets', 'app.js'), 'console.log("app");');
    const config = AppConfig.fromEnv({
      AGENTBOX_DATA_DIR: dataDir,
      AGENTBOX_HTTP_HOST: '127.0.0.1',
      AGENTBOX_HTTP_PORT: '0',
      AGENTBOX_MQTT_HOST: '127.0.0.1',
      AGENTBOX_MQTT_PORT: '0',
      AGENTBOX_ADMIN_PASSWORD: 'console-admin-password',
      AGENTBOX_CONSOLE_DIR: consoleDir,
    });
    running = await createApp(config, { logger: new PinoLoggerService('fleet-service', 'silent') });
  });

  afterAll(async () => {
    await running?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${running.url}${path}`);

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
    await running.app.get(DataSource).destroy();
    const response = await get('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'unavailable',
      checks: { database: 'down', broker: 'up' },
    });
    expect((await get('/healthz')).status).toBe(200);
  });
});
