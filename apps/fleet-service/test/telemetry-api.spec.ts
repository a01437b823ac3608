import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DesiredStateResponseSchema,
  TelemetryCatalogResponseSchema,
  TelemetryResponseSchema,
  TelemetrySeriesResponseSchema,
} from '@agentbox/schemas';
import { provisionSimulatedBox, syntheticSamples, type SimulatedBox } from '@agentbox/test-support';
import { waitFor } from './broker-harness.js';
import { ADMIN_PASSWORD, drivers, useFleetApp } from './support/fleet-app.js';

const sqlite = drivers.find((driver) => driver.name === 'sqlite')!;

/** The whole service (createApp): a box provisioned over HTTP, talking MQTT, read back over REST. */
describe('telemetry and desired-state REST API', () => {
  const app = useFleetApp(sqlite, 'telemetry-api');
  let admin: string;
  let viewer: string;
  let deviceId: string;
  let box: SimulatedBox;

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    app.call(method, path, { token, body });

  beforeAll(async () => {
    admin = await app.login('admin', ADMIN_PASSWORD);
    expect(
      (
        await call('POST', '/api/v1/users', admin, {
          username: 'watcher',
          password: 'watcher-password',
          role: 'viewer',
        })
      ).status,
    ).toBe(201);
    viewer = await app.login('watcher', 'watcher-password');

    const claim = await call('POST', '/api/v1/claim-tokens', admin, {});
    box = await provisionSimulatedBox(app.base, claim.body.token, { hardwareId: 'hw-telemetry-api-1' });
    deviceId = box.deviceId;
    await box.goOnline();
    await box.telemetry(syntheticSamples(3, 1_700_000_000_000), { seq: 1_000, ts: 1_700_000_000_000 });
    await box.telemetry(syntheticSamples(2, 1_700_000_001_000), { seq: 1_001, ts: 1_700_000_001_000 });
  });

  afterAll(async () => {
    await box?.drop();
  });

  it('serves the samples of a box, oldest first, to a viewer', async () => {
    const all = await waitFor('5 samples', async () => {
      const response = await call('GET', `/api/v1/devices/${deviceId}/telemetry`, viewer);
      return (response.body.samples as unknown[] | undefined)?.length === 5 ? response : undefined;
    });
    expect(all.status).toBe(200);
    const body = TelemetryResponseSchema.parse(all.body);
    expect(body.deviceId).toBe(deviceId);
    expect(body.samples.map((s) => s.ts)).toEqual([
      1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, 1_700_000_001_000, 1_700_000_001_001,
    ]);
    expect(body.samples[0]).toEqual({
      ts: 1_700_000_000_000,
      seq: 1_000,
      values: { 'cpu.usage_pct': 0, 'mem.used_pct': 50 },
    });

    const since = await call(
      'GET',
      `/api/v1/devices/${deviceId}/telemetry?since=${new Date(1_700_000_000_002).toISOString()}&limit=2`,
      viewer,
    );
    expect(TelemetryResponseSchema.parse(since.body).samples.map((s) => s.ts)).toEqual([
      1_700_000_000_002, 1_700_000_001_000,
    ]);
    const epoch = await call('GET', `/api/v1/devices/${deviceId}/telemetry?since=1700000001000`, viewer);
    expect(TelemetryResponseSchema.parse(epoch.body).samples).toHaveLength(2);
  });

  it('refuses bad queries, bad ids and missing tokens', async () => {
    for (const query of ['since=yesterday', 'limit=0', 'limit=5001', 'limit=abc']) {
      const response = await call('GET', `/api/v1/devices/${deviceId}/telemetry?${query}`, viewer);
      expect({ query, status: response.status, code: response.body.code }).toEqual({
        query,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    expect((await call('GET', '/api/v1/devices/bad$id/telemetry', viewer)).status).toBe(400);
    expect((await call('GET', `/api/v1/devices/${deviceId}/telemetry`)).status).toBe(401);
    expect((await call('GET', '/api/v1/telemetry/catalog')).status).toBe(401);
  });

  it('serves a span at the resolution asked for: samples, or minute and hour rollups with min and max', async () => {
    await waitFor('5 samples', async () => {
      const response = await call('GET', `/api/v1/devices/${deviceId}/telemetry`, viewer);
      return (response.body.samples as unknown[] | undefined)?.length === 5 ? response : undefined;
    });
    const series = async (query: string) => {
      const response = await call('GET', `/api/v1/devices/${deviceId}/telemetry/series?${query}`, viewer);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return TelemetrySeriesResponseSchema.parse(response.body);
    };
    const raw = await series('from=1700000000000&to=1700000002000');
    expect(raw).toMatchObject({ resolution: 'raw', bucketMs: 0 });
    expect(raw.points.map((point) => point.ts)).toEqual([
      1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, 1_700_000_001_000, 1_700_000_001_001,
    ]);
    // Not rolled up yet (they are years old, but no pass has run): the minute is made from the samples.
    const minute = await series('from=1700000000000&to=1700000060000&resolution=1m');
    expect(minute).toMatchObject({ resolution: '1m', bucketMs: 60_000 });
    expect(minute.points).toEqual([
      {
        ts: 1_699_999_980_000,
        values: { 'cpu.usage_pct': 0.8, 'mem.used_pct': 50 },
        min: { 'cpu.usage_pct': 0, 'mem.used_pct': 50 },
        max: { 'cpu.usage_pct': 2, 'mem.used_pct': 50 },
      },
    ]);
    // Thirty days: hourly, chosen by the span.
    const month = await series(`from=${1_700_000_000_000 - 29 * 86_400_000}&to=1700003600000`);
    expect(month).toMatchObject({ resolution: '1h', bucketMs: 3_600_000 });
    expect(month.points.map((point) => point.ts)).toEqual([1_699_999_200_000]);
  });

  it('refuses a series query it cannot answer, saying what to ask instead', async () => {
    const get = (query: string) =>
      call('GET', `/api/v1/devices/${deviceId}/telemetry/series?${query}`, viewer);
    for (const query of ['', 'from=yesterday', 'from=2000&to=1000', 'from=0&resolution=2m']) {
      const response = await get(query);
      expect(response.status, query).toBe(400);
      expect(response.body.code, query).toBe('VALIDATION_FAILED');
    }
    const tooMany = await get(`from=0&to=${30 * 86_400_000}&resolution=1m`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.code).toBe('TELEMETRY_TOO_MANY_POINTS');
    expect(tooMany.body.message).toContain('resolution=1h');
    // Past the coarsest resolution (20,000 hours), only a shorter span helps, whatever was asked.
    for (const resolution of ['1h', 'auto']) {
      const tooLong = await get(`from=0&to=${1_000 * 86_400_000}&resolution=${resolution}`);
      expect(tooLong.status, resolution).toBe(400);
      expect(tooLong.body.code, resolution).toBe('TELEMETRY_TOO_MANY_POINTS');
      expect(tooLong.body.message, resolution).toContain('ask for a shorter span');
      expect(tooLong.body.message, resolution).not.toContain('resolution=1h');
    }
  });

  it('serves the metric catalog', async () => {
    const response = await call('GET', '/api/v1/telemetry/catalog?name=temp.cpu_c', viewer);
    expect(response.status).toBe(200);
    const body = TelemetryCatalogResponseSchema.parse(response.body);
    expect(body.metrics.find((m) => m.name === 'cpu.usage_pct')).toMatchObject({
      unit: 'percent',
      type: 'gauge',
    });
    expect(body.described).toMatchObject({ name: 'temp.cpu_c', unit: 'celsius' });
  });

  it('publishes version 0 when the box comes online, then each operator change, and shows what the box reports', async () => {
    await waitFor('desired v0', () => box.desired.find((d) => d.version === 0));
    expect(
      (
        await call('PUT', `/api/v1/devices/${deviceId}/desired`, viewer, {
          spec: { telemetry: { intervalSec: 5 } },
        })
      ).status,
    ).toBe(403);
    const bad = await call('PUT', `/api/v1/devices/${deviceId}/desired`, admin, {
      spec: { telemetry: { intervalSec: 0 } },
    });
    expect(bad).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect((await call('PUT', '/api/v1/devices/box-nope/desired', admin, { spec: {} })).status).toBe(404);

    const put = await call('PUT', `/api/v1/devices/${deviceId}/desired`, admin, {
      spec: { telemetry: { intervalSec: 5 }, futureSection: ['a'] },
    });
    expect(put.status).toBe(200);
    expect(DesiredStateResponseSchema.parse(put.body).desired).toMatchObject({
      version: 1,
      spec: { telemetry: { intervalSec: 5 } },
    });
    expect(
      await waitFor('desired v1 on the box', () => box.desired.find((d) => d.version === 1)),
    ).toMatchObject({
      spec: { telemetry: { intervalSec: 5 }, futureSection: ['a'] },
    });

    await box.publish('state', { desiredVersion: 1, current: { intervalSec: 5 } }, { seq: 2_000 });
    const state = await waitFor('reported state', async () => {
      const response = await call('GET', `/api/v1/devices/${deviceId}/desired`, viewer);
      return response.body.reported ? response : undefined;
    });
    expect(DesiredStateResponseSchema.parse(state.body)).toMatchObject({
      desired: { version: 1 },
      reported: { desiredVersion: 1, current: { intervalSec: 5 }, seq: 2_000 },
      inSync: true,
    });
  });

  it('documents the endpoints in the OpenAPI document', async () => {
    const response = await fetch(`${app.base}/api/docs-json`);
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(document.paths['/api/v1/devices/{id}/telemetry']?.get?.operationId).toBe('getDeviceTelemetry');
    expect(document.paths['/api/v1/telemetry/catalog']?.get?.operationId).toBe('getTelemetryCatalog');
    expect(document.paths['/api/v1/devices/{id}/desired']?.put?.operationId).toBe('setDesiredState');
  });
});
