import { describe, expect, it } from 'vitest';
import { describeMetric, METRIC_CATALOG, METRIC_NAME_RE, sanitizeMetricSegment } from './catalog.js';

describe('METRIC_CATALOG', () => {
  it('holds the metrics the device agent reports, with valid and unique names', () => {
    const names = METRIC_CATALOG.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(METRIC_NAME_RE);
    expect(names).toEqual(
      expect.arrayContaining([
        'cpu.usage_pct',
        'cpu.iowait_pct',
        'mem.total_bytes',
        'mem.available_bytes',
        'mem.used_bytes',
        'mem.used_pct',
        'swap.used_bytes',
        'load.1m',
        'load.5m',
        'load.15m',
        'disk.total_bytes',
        'disk.used_bytes',
        'disk.used_pct',
        'net.rx_bytes',
        'net.tx_bytes',
        'net.rx_bytes_per_s',
        'net.tx_bytes_per_s',
        'uptime.seconds',
        'procs.running',
        'temp.max_c',
        'power.total_w',
      ]),
    );
  });

  it('uses the same name pattern as the wire contract', () => {
    expect(METRIC_NAME_RE.source).toBe('^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$');
  });

  it('marks byte counters as counters and everything else as gauges', () => {
    const counters = METRIC_CATALOG.filter((d) => d.type === 'counter').map((d) => d.name);
    expect(counters.sort()).toEqual(['net.rx_bytes', 'net.tx_bytes']);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(METRIC_CATALOG)).toBe(true);
    expect(Object.isFrozen(METRIC_CATALOG[0])).toBe(true);
  });
});

describe('describeMetric', () => {
  it('returns static definitions', () => {
    expect(describeMetric('mem.used_pct')).toMatchObject({ unit: 'percent', type: 'gauge' });
    expect(describeMetric('net.rx_bytes')).toMatchObject({ unit: 'bytes', type: 'counter' });
  });

  it('resolves dynamic temperature and power names', () => {
    expect(describeMetric('temp.x86_pkg_temp_c')).toMatchObject({
      name: 'temp.x86_pkg_temp_c',
      unit: 'celsius',
      type: 'gauge',
    });
    expect(describeMetric('power.package_0_w')).toMatchObject({
      name: 'power.package_0_w',
      unit: 'watts',
      type: 'gauge',
    });
    expect(describeMetric('temp.max_c')?.description).toMatch(/hottest/i);
  });

  it('returns undefined for unknown names', () => {
    expect(describeMetric('cpu.bogus')).toBeUndefined();
    expect(describeMetric('temp.Zone_c')).toBeUndefined();
    expect(describeMetric('power._w')).toBeUndefined();
    expect(describeMetric('')).toBeUndefined();
  });
});

describe('sanitizeMetricSegment', () => {
  it.each([
    ['x86_pkg_temp\n', 'x86_pkg_temp'],
    ['Cpu-Thermal', 'cpu_thermal'],
    ['package-0', 'package_0'],
    [' --SoC  dts0-- ', 'soc_dts0'],
    ['°°°', ''],
  ])('lower-cases %j and maps everything else to single underscores: %j', (label, segment) => {
    expect(sanitizeMetricSegment(label)).toBe(segment);
  });
});
