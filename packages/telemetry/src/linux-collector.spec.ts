import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { describeMetric, METRIC_NAME_RE } from './catalog.js';
import { LinuxCollector } from './linux-collector.js';

const GiB = 1024 ** 3;

/** The metric names of a family ('temp.', 'power.') among `names`. */
const namesIn = (names: string[], family: string) => names.filter((name) => name.startsWith(family));

/** The values of a sample's metrics of one family, by name. */
const familyOf = (sample: Record<string, number>, family: string) =>
  Object.fromEntries(Object.entries(sample).filter(([name]) => name.startsWith(family)));

interface ProcState {
  cpu: [
    user: number,
    nice: number,
    system: number,
    idle: number,
    iowait: number,
    irq: number,
    softirq: number,
    steal: number,
  ];
  net: Record<string, [rx: number, tx: number]>;
}

function statText(s: ProcState): string {
  const cpu = s.cpu.join(' ');
  return [
    `cpu  ${cpu} 0 0`,
    `cpu0 ${cpu} 0 0`,
    `cpu1 ${cpu} 0 0`,
    'intr 1 2 3',
    'ctxt 42',
    'btime 1700000000',
    'processes 9000',
    'procs_running 3',
    'procs_blocked 1',
    '',
  ].join('\n');
}

function netDevText(s: ProcState): string {
  const head = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
  ];
  const rows = Object.entries(s.net).map(
    ([iface, [rx, tx]]) => `${iface.padStart(6)}: ${rx} 10 0 0 0 0 0 0 ${tx} 20 0 0 0 0 0 0`,
  );
  return [...head, ...rows, ''].join('\n');
}

const MEMINFO = [
  'MemTotal:        8000000 kB',
  'MemFree:         1000000 kB',
  'MemAvailable:    6000000 kB',
  'Buffers:          100000 kB',
  'SwapTotal:       2000000 kB',
  'SwapFree:        1500000 kB',
  'HugePages_Total:       0',
  '',
].join('\n');

describe('LinuxCollector', () => {
  const root = useTempDir('agentbox-collector-');
  let procRoot: string;
  let sysRoot: string;
  let now: number;
  const clock = () => now;

  async function put(path: string, content: string): Promise<void> {
    const full = join(root.path, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }

  async function writeProc(s: ProcState): Promise<void> {
    await put('proc/stat', statText(s));
    await put('proc/net/dev', netDevText(s));
  }

  beforeEach(async () => {
    procRoot = join(root.path, 'proc');
    sysRoot = join(root.path, 'sys');
    now = 1_000;
    await mkdir(sysRoot, { recursive: true });
    await put('proc/meminfo', MEMINFO);
    await put('proc/loadavg', '0.50 0.25 0.10 3/456 7890\n');
    await put('proc/uptime', '12345.67 20000.00\n');
  });

  describe('with a fixture /proc', () => {
    beforeEach(async () => {
      await writeProc({
        cpu: [1000, 0, 500, 8000, 100, 0, 0, 0],
        net: { lo: [999, 999], eth0: [1000, 2000], wlan0: [500, 0] },
      });
    });

    it('reads gauges and computes rates against the previous call', async () => {
      const sut = new LinuxCollector({ procRoot, sysRoot, diskPaths: [root.path], firstWindowMs: 1, clock });
      const first = await sut.collect();
      // Nothing moved during the first window: no CPU time passed, so no CPU percentage is invented.
      expect(first['cpu.usage_pct']).toBeUndefined();
      expect(first['net.rx_bytes']).toBe(1500);
      expect(first['net.tx_bytes']).toBe(2000);

      // 2 s later: 400 ticks in total, 100 idle of which 50 iowait -> 75 % busy, 12.5 % iowait.
      await writeProc({
        cpu: [1200, 0, 600, 8050, 150, 0, 0, 0],
        net: { lo: [5000, 5000], eth0: [3000, 2400], wlan0: [1500, 0] },
      });
      now += 2_000;
      const sample = await sut.collect();

      expect(sample['cpu.usage_pct']).toBeCloseTo(75, 10);
      expect(sample['cpu.iowait_pct']).toBeCloseTo(12.5, 10);
      expect(sample['cpu.cores']).toBe(2);
      expect(sample['net.rx_bytes']).toBe(4500);
      expect(sample['net.tx_bytes']).toBe(2400);
      expect(sample['net.rx_bytes_per_s']).toBe(1500);
      expect(sample['net.tx_bytes_per_s']).toBe(200);
      expect(sample['mem.total_bytes']).toBe(8_000_000 * 1024);
      expect(sample['mem.available_bytes']).toBe(6_000_000 * 1024);
      expect(sample['mem.used_bytes']).toBe(2_000_000 * 1024);
      expect(sample['mem.used_pct']).toBeCloseTo(25, 10);
      expect(sample['swap.total_bytes']).toBe(2_000_000 * 1024);
      expect(sample['swap.used_bytes']).toBe(500_000 * 1024);
      expect(sample['load.1m']).toBe(0.5);
      expect(sample['load.5m']).toBe(0.25);
      expect(sample['load.15m']).toBe(0.1);
      expect(sample['uptime.seconds']).toBe(12345.67);
      expect(sample['procs.running']).toBe(3);
      expect(sample['procs.blocked']).toBe(1);
      expect(sample['procs.total']).toBe(456);
      expect(sample['disk.total_bytes']).toBeGreaterThan(0);
      expect(sample['disk.used_pct']).toBeGreaterThanOrEqual(0);
      expect(sample['disk.used_pct']).toBeLessThanOrEqual(100);
      for (const key of Object.keys(sample))
        expect(key.startsWith('temp.') || key.startsWith('power.')).toBe(false);
    });

    it('does not count a counter reset or a vanished interface as traffic', async () => {
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 1, clock });
      await sut.collect();
      await writeProc({
        cpu: [1000, 0, 500, 8000, 100, 0, 0, 0],
        net: { eth0: [100, 2100], usb0: [7000, 7000] },
      });
      now += 1_000;
      const sample = await sut.collect();
      // eth0 rx went down (reset): 0; tx +100; wlan0 vanished; usb0 is new and has no baseline.
      expect(sample['net.rx_bytes_per_s']).toBe(0);
      expect(sample['net.tx_bytes_per_s']).toBe(100);
      expect(sample['net.rx_bytes']).toBe(7100);
    });

    it('takes a short window of its own on the first call', async () => {
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 300 });
      const started = performance.now();
      await sut.collect();
      expect(performance.now() - started).toBeGreaterThanOrEqual(295);
      const again = performance.now();
      await sut.collect();
      expect(performance.now() - again).toBeLessThan(250);
    });

    it('runs overlapping calls one after the other', async () => {
      let snapshots = 0;
      const counting = () => ++snapshots * 1000;
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 20, clock: counting });
      const samples = await Promise.all([sut.collect(), sut.collect(), sut.collect()]);
      for (const s of samples) expect(s['mem.total_bytes']).toBe(8_000_000 * 1024);
      // Only the first call takes a window of its own (two snapshots); the others diff against it.
      expect(snapshots).toBe(4);
      expect(samples.map((s) => s['net.rx_bytes_per_s'])).toEqual([0, 0, 0]);
    });

    it('leaves out what it cannot read instead of failing', async () => {
      await rm(join(procRoot, 'meminfo'));
      await put('proc/loadavg', 'garbage\n');
      await rm(join(procRoot, 'net'), { recursive: true });
      const sut = new LinuxCollector({
        procRoot,
        sysRoot,
        diskPaths: [join(root.path, 'does-not-exist')],
        firstWindowMs: 1,
        clock,
      });
      const sample = await sut.collect();
      const keys = Object.keys(sample);
      for (const prefix of ['mem.', 'swap.', 'load.', 'net.', 'disk.']) {
        expect(keys.filter((k) => k.startsWith(prefix))).toEqual([]);
      }
      expect(sample['uptime.seconds']).toBe(12345.67);
      expect(sample['procs.running']).toBe(3);
    });
  });

  describe('thermal zones', () => {
    beforeEach(async () => {
      await writeProc({ cpu: [1, 0, 1, 1, 0, 0, 0, 0], net: {} });
    });

    async function zone(n: number, type: string | undefined, temp: string | undefined): Promise<void> {
      const dir = `sys/class/thermal/thermal_zone${n}`;
      await mkdir(join(root.path, dir), { recursive: true });
      if (type !== undefined) await put(`${dir}/type`, `${type}\n`);
      if (temp !== undefined) await put(`${dir}/temp`, `${temp}\n`);
    }

    it('reports one temperature per readable zone and the hottest', async () => {
      await zone(0, 'x86_pkg_temp', '51000');
      await zone(1, 'acpitz', '27800');
      await zone(2, 'acpitz', '29800');
      await zone(3, 'Cpu-Thermal', '45500');
      await zone(10, undefined, '30000');
      await zone(4, 'iwlwifi_1', undefined); // no temp file: absent
      await zone(5, 'bogus', '-273000'); // no probe behind it
      await zone(6, 'broken', 'N/A');
      await zone(7, 'MAX', '20000'); // must not shadow temp.max_c
      await mkdir(join(root.path, 'sys/class/thermal/cooling_device0'), { recursive: true });
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 1 });

      const sample = await sut.collect();
      const temps = familyOf(sample, 'temp.');
      expect(temps).toEqual({
        'temp.x86_pkg_temp_c': 51,
        'temp.acpitz_1_c': 27.8,
        'temp.acpitz_2_c': 29.8,
        'temp.cpu_thermal_c': 45.5,
        'temp.zone10_c': 30,
        'temp.max_7_c': 20,
        'temp.max_c': 51,
      });
      for (const name of Object.keys(temps)) expect(describeMetric(name)?.unit).toBe('celsius');
      expect(await sut.availableMetrics()).toEqual(expect.arrayContaining(Object.keys(temps)));
    });

    it('has no temperature keys without thermal zones', async () => {
      await mkdir(join(root.path, 'sys/class/thermal'), { recursive: true });
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 1 });
      const sample = await sut.collect();
      expect(namesIn(Object.keys(sample), 'temp.')).toEqual([]);
      expect(namesIn(await sut.availableMetrics(), 'temp.')).toEqual([]);
    });
  });

  describe('RAPL power', () => {
    beforeEach(async () => {
      await writeProc({ cpu: [1, 0, 1, 1, 0, 0, 0, 0], net: {} });
    });

    async function domain(
      id: string,
      name: string,
      energyUj: number | undefined,
      maxUj = 262_143_328_850,
    ): Promise<void> {
      const dir = `sys/class/powercap/${id}`;
      await put(`${dir}/name`, `${name}\n`);
      await put(`${dir}/max_energy_range_uj`, `${maxUj}\n`);
      if (energyUj !== undefined) await put(`${dir}/energy_uj`, `${energyUj}\n`);
    }

    it('turns energy deltas into watts, per domain and in total', async () => {
      await domain('intel-rapl:0', 'package-0', 1_000_000);
      await domain('intel-rapl:0:0', 'core', 500_000);
      await domain('intel-rapl:0:1', 'dram', 100_000);
      await domain('intel-rapl:1', 'package-1', 2_000_000);
      await domain('intel-rapl:2', 'psys', 9_000_000);
      await domain('intel-rapl:3', 'total', 0, 1_000); // must not shadow power.total_w
      await put('sys/class/powercap/intel-rapl/enabled', '1\n'); // the control type itself, not a domain
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 1, clock });
      const first = await sut.collect();
      // The pinned clock did not move during the first window: no rate can be computed yet.
      expect(first['power.package_0_w']).toBeUndefined();

      now += 2_000;
      await domain('intel-rapl:0', 'package-0', 31_000_000); // 30 J in 2 s
      await domain('intel-rapl:0:0', 'core', 20_500_000); // 20 J
      await domain('intel-rapl:0:1', 'dram', 4_100_000); // 4 J
      await domain('intel-rapl:1', 'package-1', 12_000_000); // 10 J
      await domain('intel-rapl:2', 'psys', 99_000_000); // 90 J
      await domain('intel-rapl:3', 'total', 500, 1_000); // 0.5 mJ
      const sample = await sut.collect();

      const power = familyOf(sample, 'power.');
      expect(power).toEqual({
        'power.package_0_w': 15,
        'power.package_0_core_w': 10,
        'power.package_0_dram_w': 2,
        'power.package_1_w': 5,
        'power.psys_w': 45,
        'power.intel_rapl_3_w': 0.00025,
        'power.total_w': 20.00025,
      });
      for (const name of Object.keys(power)) expect(describeMetric(name)?.unit).toBe('watts');
    });

    it('handles the counter wrapping at max_energy_range_uj', async () => {
      await domain('intel-rapl:0', 'package-0', 999_000_000, 1_000_000_000);
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 1, clock });
      await sut.collect();
      now += 1_000;
      await domain('intel-rapl:0', 'package-0', 4_000_000, 1_000_000_000); // 1 J before the wrap + 4 J after
      const sample = await sut.collect();
      expect(sample['power.package_0_w']).toBe(5);
      expect(sample['power.total_w']).toBe(5);
    });

    it('leaves power out when the energy counter is unreadable', async () => {
      await domain('intel-rapl:0', 'package-0', undefined);
      const sut = new LinuxCollector({ procRoot, sysRoot, firstWindowMs: 1 });
      const sample = await sut.collect();
      expect(namesIn(Object.keys(sample), 'power.')).toEqual([]);
      expect(namesIn(await sut.availableMetrics(), 'power.')).toEqual([]);
    });

    it('lists the power metrics as available when the counters are readable', async () => {
      await domain('intel-rapl:0', 'package-0', 1);
      const sut = new LinuxCollector({ procRoot, sysRoot });
      expect(await sut.availableMetrics()).toEqual(
        expect.arrayContaining(['power.package_0_w', 'power.total_w']),
      );
    });
  });

  describe('on this machine', () => {
    it('reports sane values and only sensors that exist', async () => {
      const sut = new LinuxCollector();
      await sut.collect();
      await new Promise((r) => setTimeout(r, 100));
      const sample = await sut.collect();
      const available = await sut.availableMetrics();

      for (const [name, value] of Object.entries(sample)) {
        expect(name).toMatch(METRIC_NAME_RE);
        expect(describeMetric(name), name).toBeDefined();
        expect(Number.isFinite(value), name).toBe(true);
        expect(available).toContain(name);
      }
      for (const pct of ['cpu.usage_pct', 'mem.used_pct', 'disk.used_pct']) {
        expect(sample[pct]).toBeGreaterThanOrEqual(0);
        expect(sample[pct]).toBeLessThanOrEqual(100);
      }
      expect(sample['mem.total_bytes']).toBeGreaterThan(64 * 1024 * 1024);
      expect(sample['mem.total_bytes']).toBeLessThan(64 * 1024 * GiB);
      expect(sample['mem.used_bytes']! + sample['mem.available_bytes']!).toBe(sample['mem.total_bytes']);
      expect(sample['uptime.seconds']).toBeGreaterThan(0);
      expect(sample['load.1m']).toBeGreaterThanOrEqual(0);
      expect(sample['procs.running']).toBeGreaterThanOrEqual(1); // this process is running
      expect(sample['net.rx_bytes_per_s']).toBeGreaterThanOrEqual(0);
      expect(sample['disk.total_bytes']).toBeGreaterThan(0);

      const zones = (await readdir('/sys/class/thermal').catch(() => [])).filter((e) =>
        e.startsWith('thermal_zone'),
      );
      if (zones.length === 0) expect(namesIn(Object.keys(sample), 'temp.')).toEqual([]);
      const rapl = (await readdir('/sys/class/powercap').catch(() => [])).filter((e) =>
        e.startsWith('intel-rapl:'),
      );
      if (rapl.length === 0) expect(namesIn(Object.keys(sample), 'power.')).toEqual([]);
      for (const [name, value] of Object.entries(sample)) {
        if (name.startsWith('temp.')) expect(value).toBeGreaterThan(-100);
        if (name.startsWith('power.')) expect(value).toBeGreaterThanOrEqual(0);
      }
    });
  });
});
