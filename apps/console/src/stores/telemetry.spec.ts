// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { useFleetServer, FleetServer } from '@/testing/fleet-server';
import { MAX_SAMPLES, mergeSamples, TIME_RANGES, useTelemetryStore } from './telemetry';

describe('mergeSamples', () => {
  it('orders by time, merges repeats and drops what is older than the window', () => {
    const merged = mergeSamples(
      [
        { ts: 10, values: { a: 1 } },
        { ts: 30, values: { a: 3 } },
      ],
      [
        { ts: 20, values: { a: 2 } },
        { ts: 30, values: { b: 9 } },
        { ts: 5, values: { a: 0 } },
      ],
      10,
    );
    expect(merged).toEqual([
      { ts: 10, values: { a: 1 } },
      { ts: 20, values: { a: 2 } },
      { ts: 30, values: { a: 3, b: 9 } },
    ]);
  });

  it('keeps at most MAX_SAMPLES, the newest', () => {
    const many = Array.from({ length: MAX_SAMPLES + 5 }, (_, i) => ({ ts: i, values: { a: i } }));
    const merged = mergeSamples([], many, 0);
    expect(merged).toHaveLength(MAX_SAMPLES);
    expect(merged[0]?.ts).toBe(5);
  });
});

describe('telemetry store', () => {
  let server: FleetServer;
  let now: number;
  let history: number[];

  useFleetServer((fleet) => {
    now = Date.now();
    history = [now - 2 * 3_600_000, now - 20 * 60_000, now - 60_000];
    server = fleet;
    server.route('GET', '/api/v1/devices/a/telemetry/series', (_req, url) => {
      const from = Date.parse(url.searchParams.get('from') ?? '');
      // As the fleet's `auto` picks: samples up to 6 h, then rollups (one point per hour here).
      const hourly = Date.now() - from > TIME_RANGES['6h'] + 60_000;
      const points = history
        .filter((ts) => ts >= from)
        .map((ts, i) => ({ ts, values: { 'cpu.usage_pct': i, 'temp.zone0_c': 40 + i } }));
      return {
        status: 200,
        body: {
          deviceId: 'a',
          resolution: hourly ? '1h' : 'raw',
          bucketMs: hourly ? 3_600_000 : 0,
          points,
        },
      };
    });
  });

  it('loads the chosen range in one request, at the resolution the fleet picks', async () => {
    const sut = useTelemetryStore();
    await sut.load('a', '15m');
    expect(sut.samples).toHaveLength(1);
    await sut.load('a', '1h');
    expect(sut.samples).toHaveLength(2);
    await sut.load('a', '6h');
    expect(sut.samples).toHaveLength(3);
    expect(sut.resolution).toBe('raw');
    expect(sut.metricNames.sort()).toEqual(['cpu.usage_pct', 'temp.zone0_c']);
    const from = new URL(`http://x${server.requests.at(-1)!.path}`).searchParams.get('from');
    expect(Math.abs(Date.parse(from!) - (Date.now() - TIME_RANGES['6h']))).toBeLessThan(5_000);
    expect(server.requests.filter((r) => r.path.startsWith('/api/v1/devices/a/telemetry'))).toHaveLength(3);
  });

  it('shows hourly averages over 30 days, without live samples mixed in', async () => {
    history = Array.from({ length: 720 }, (_, i) => now - 30 * 24 * 3_600_000 + (i + 1) * 3_600_000);
    const sut = useTelemetryStore();
    await sut.load('a', '30d');
    expect(sut.resolution).toBe('1h');
    expect(sut.samples).toHaveLength(720);
    sut.appendLive('a', [{ ts: Date.now() + 1, values: { 'cpu.usage_pct': 50 } }]);
    expect(sut.samples).toHaveLength(720);
  });

  it('appends live samples for the device on screen only', async () => {
    const sut = useTelemetryStore();
    await sut.load('a', '1h');
    sut.appendLive('a', [{ ts: Date.now(), values: { 'cpu.usage_pct': 50 } }]);
    sut.appendLive('other', [{ ts: Date.now(), values: { 'cpu.usage_pct': 70 } }]);
    expect(sut.samples).toHaveLength(3);
    expect(sut.samples.at(-1)?.values['cpu.usage_pct']).toBe(50);

    sut.clear();
    sut.appendLive('a', [{ ts: Date.now(), values: { 'cpu.usage_pct': 50 } }]);
    expect(sut.samples).toHaveLength(0);
  });
});
