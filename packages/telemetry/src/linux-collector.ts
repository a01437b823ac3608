import { readdir, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sanitizeMetricSegment } from './catalog.js';

export interface CollectorOptions {
  /** Where procfs is mounted; default `/proc`. Tests point it at a fixture tree. */
  procRoot?: string;
  /** Where sysfs is mounted; default `/sys`. */
  sysRoot?: string;
  /** File systems to report; only the first is reported today (`disk.*`). Default `['/']`. */
  diskPaths?: string[];
  /** Window of the very first sample, which has no previous one to diff against; default 250 ms. */
  firstWindowMs?: number;
  /** Monotonic clock in milliseconds used for rates; default `performance.now`. Tests pin it. */
  clock?: () => number;
}

interface CpuTimes {
  total: number;
  idle: number;
  iowait: number;
}

interface RaplDomain {
  energyUj: number;
  maxRangeUj: number | undefined;
  /** `intel-rapl:N` rather than a sub-domain `intel-rapl:N:M`. */
  topLevel: boolean;
  /** psys covers the whole platform and overlaps the packages. */
  psys: boolean;
}

interface Snapshot {
  at: number;
  cpu?: CpuTimes;
  cores?: number;
  procsRunning?: number;
  procsBlocked?: number;
  procsTotal?: number;
  meminfo?: Map<string, number>;
  load?: [number, number, number];
  net?: Map<string, { rx: number; tx: number }>;
  uptime?: number;
  temps: Map<string, number>;
  rapl: Map<string, RaplDomain>;
  disk?: { total: number; used: number; available: number };
}

// Sensors report nonsense (-273 °C, 0xFFFF...) when a probe is missing; such readings are left out.
const TEMP_MIN_C = -100;
const TEMP_MAX_C = 250;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    // Absent or unreadable sensor (ENOENT, EACCES, EIO, ENODATA): absent metric.
    return undefined;
  }
}

async function readNumber(path: string): Promise<number | undefined> {
  const text = await readText(path);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

function finite(values: string[]): number[] | undefined {
  const nums = values.map(Number);
  return nums.every(Number.isFinite) ? nums : undefined;
}

function parseStat(text: string): Pick<Snapshot, 'cpu' | 'cores' | 'procsRunning' | 'procsBlocked'> {
  const out: Pick<Snapshot, 'cpu' | 'cores' | 'procsRunning' | 'procsBlocked'> = {};
  let cores = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const key = parts[0];
    if (key === 'cpu') {
      // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already in user.
      const n = finite(parts.slice(1, 9));
      if (n && n.length >= 4) {
        const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = n;
        out.cpu = {
          total: user + nice + system + idle + iowait + irq + softirq + steal,
          idle: idle + iowait,
          iowait,
        };
      }
    } else if (key !== undefined && /^cpu\d+$/.test(key)) {
      cores += 1;
    } else if (key === 'procs_running' || key === 'procs_blocked') {
      const value = Number(parts[1]);
      if (Number.isFinite(value)) {
        if (key === 'procs_running') out.procsRunning = value;
        else out.procsBlocked = value;
      }
    }
  }
  if (cores > 0) out.cores = cores;
  return out;
}

function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      const kib = line.includes('kB');
      out.set(m[1], Number(m[2]) * (kib ? 1024 : 1));
    }
  }
  return out;
}

function parseLoadavg(text: string): Pick<Snapshot, 'load' | 'procsTotal'> {
  const parts = text.trim().split(/\s+/);
  const out: Pick<Snapshot, 'load' | 'procsTotal'> = {};
  const load = finite(parts.slice(0, 3));
  if (load?.length === 3) out.load = [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0];
  const total = Number(parts[3]?.split('/')[1]);
  if (Number.isFinite(total)) out.procsTotal = total;
  return out;
}

function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    if (iface === '' || iface === 'lo') continue;
    // Fields after the colon: 8 receive columns then 8 transmit columns; bytes come first in each.
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const rx = Number(fields[0]);
    const tx = Number(fields[8]);
    if (Number.isFinite(rx) && Number.isFinite(tx)) out.set(iface, { rx, tx });
  }
  return out;
}

export class LinuxCollector {
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly diskPath: string | undefined;
  private readonly firstWindowMs: number;
  private readonly clock: () => number;
  private previous: Snapshot | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: CollectorOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.sysRoot = options.sysRoot ?? '/sys';
    this.diskPath = (options.diskPaths ?? ['/'])[0];
    this.firstWindowMs = options.firstWindowMs ?? 250;
    this.clock = options.clock ?? (() => performance.now());
  }

  /**
   * One sample: metric name -> value. Rates and percentages are computed against the previous call
   * (the first call takes a short window itself). Absent sensors are absent keys, never invented values.
   */
  collect(): Promise<Record<string, number>> {
    // Overlapping calls would diff against a snapshot another call is about to replace; run them in turn.
    const run = this.queue.then(() => this.collectNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Names of the metrics this machine can report. */
  async availableMetrics(): Promise<string[]> {
    const snap = await this.snapshot();
    return Object.keys(this.derive(snap, snap, true)).sort();
  }

  private async collectNow(): Promise<Record<string, number>> {
    let prev = this.previous;
    if (!prev) {
      prev = await this.snapshot();
      await sleep(this.firstWindowMs);
    }
    const cur = await this.snapshot();
    this.previous = cur;
    return this.derive(prev, cur, false);
  }

  private async snapshot(): Promise<Snapshot> {
    const [stat, meminfo, loadavg, netDev, uptime, temps, rapl, disk] = await Promise.all([
      readText(join(this.procRoot, 'stat')),
      readText(join(this.procRoot, 'meminfo')),
      readText(join(this.procRoot, 'loadavg')),
      readText(join(this.procRoot, 'net', 'dev')),
      readText(join(this.procRoot, 'uptime')),
      this.readThermal(),
      this.readRapl(),
      this.readDisk(),
    ]);
    const snap: Snapshot = { at: this.clock(), temps, rapl };
    if (stat !== undefined) Object.assign(snap, parseStat(stat));
    if (meminfo !== undefined) snap.meminfo = parseMeminfo(meminfo);
    if (loadavg !== undefined) Object.assign(snap, parseLoadavg(loadavg));
    if (netDev !== undefined) snap.net = parseNetDev(netDev);
    const up = Number(uptime?.trim().split(/\s+/)[0]);
    if (uptime !== undefined && Number.isFinite(up)) snap.uptime = up;
    if (disk) snap.disk = disk;
    return snap;
  }

  private async readThermal(): Promise<Map<string, number>> {
    const base = join(this.sysRoot, 'class', 'thermal');
    const zones = (await listDir(base))
      .map((entry) => ({ entry, index: /^thermal_zone(\d+)$/.exec(entry)?.[1] }))
      .filter((z): z is { entry: string; index: string } => z.index !== undefined)
      .sort((a, b) => Number(a.index) - Number(b.index));
    const read = await Promise.all(
      zones.map(async (z) => {
        const [type, milli] = await Promise.all([
          readText(join(base, z.entry, 'type')),
          readNumber(join(base, z.entry, 'temp')),
        ]);
        let label = type === undefined ? '' : sanitizeMetricSegment(type);
        if (label === '') label = `zone${z.index}`;
        // `temp.max_c` is the aggregate; a zone typed "max" must not overwrite it.
        if (label === 'max') label = `max_${z.index}`;
        return { index: z.index, label, milli };
      }),
    );
    // Several zones can share a type (two `acpitz`); those get their zone number appended.
    const labelCount = new Map<string, number>();
    for (const z of read) labelCount.set(z.label, (labelCount.get(z.label) ?? 0) + 1);
    const out = new Map<string, number>();
    for (const z of read) {
      if (z.milli === undefined) continue;
      const celsius = z.milli / 1000;
      if (celsius < TEMP_MIN_C || celsius > TEMP_MAX_C) continue;
      const name = (labelCount.get(z.label) ?? 0) > 1 ? `${z.label}_${z.index}` : z.label;
      out.set(name, celsius);
    }
    return out;
  }

  private async readRapl(): Promise<Map<string, RaplDomain>> {
    const base = join(this.sysRoot, 'class', 'powercap');
    const entries = (await listDir(base)).filter((e) => /^intel-rapl:\d+(:\d+)*$/.test(e)).sort();
    const names = new Map<string, string>();
    await Promise.all(
      entries.map(async (e) => {
        const raw = await readText(join(base, e, 'name'));
        const label = raw === undefined ? '' : sanitizeMetricSegment(raw);
        // `power.total_w` is the aggregate; a domain named "total" keeps its sysfs name instead.
        names.set(e, label === '' || label === 'total' ? sanitizeMetricSegment(e) : label);
      }),
    );
    const out = new Map<string, RaplDomain>();
    await Promise.all(
      entries.map(async (e) => {
        // Energy counters are root-only on patched kernels (CVE-2020-8694); unreadable means absent.
        const [energyUj, maxRangeUj] = await Promise.all([
          readNumber(join(base, e, 'energy_uj')),
          readNumber(join(base, e, 'max_energy_range_uj')),
        ]);
        if (energyUj === undefined) return;
        const parts = e.split(':');
        const topLevel = parts.length === 2;
        const own = names.get(e) ?? sanitizeMetricSegment(e);
        // Sub-domains (core, uncore, dram) repeat per package, so they carry the package name.
        const parent = names.get(parts.slice(0, -1).join(':'));
        const name = topLevel || parent === undefined ? own : `${parent}_${own}`;
        out.set(name, { energyUj, maxRangeUj, topLevel, psys: own === 'psys' });
      }),
    );
    return out;
  }

  private async readDisk(): Promise<Snapshot['disk']> {
    if (this.diskPath === undefined) return undefined;
    try {
      const s = await statfs(this.diskPath);
      const total = s.blocks * s.bsize;
      const used = (s.blocks - s.bfree) * s.bsize;
      const available = s.bavail * s.bsize;
      return { total, used, available };
    } catch {
      return undefined;
    }
  }

  /** `probe` computes names only: rates are reported as 0 so that every derivable key is present. */
  private derive(prev: Snapshot, cur: Snapshot, probe: boolean): Record<string, number> {
    const out: Record<string, number> = {};
    const dtSec = (cur.at - prev.at) / 1000;
    const ratesOk = probe || dtSec > 0;

    if (cur.cpu && prev.cpu) {
      const dTotal = cur.cpu.total - prev.cpu.total;
      if (probe) {
        out['cpu.usage_pct'] = 0;
        out['cpu.iowait_pct'] = 0;
      } else if (dTotal > 0) {
        const dIdle = Math.max(0, cur.cpu.idle - prev.cpu.idle);
        const dIowait = Math.max(0, cur.cpu.iowait - prev.cpu.iowait);
        out['cpu.usage_pct'] = clampPct(((dTotal - dIdle) / dTotal) * 100);
        out['cpu.iowait_pct'] = clampPct((dIowait / dTotal) * 100);
      }
    }
    if (cur.cores !== undefined) out['cpu.cores'] = cur.cores;

    const mem = cur.meminfo;
    if (mem) {
      const total = mem.get('MemTotal');
      const available = mem.get('MemAvailable');
      if (total !== undefined) out['mem.total_bytes'] = total;
      if (available !== undefined) out['mem.available_bytes'] = available;
      if (total !== undefined && available !== undefined) {
        const used = Math.max(0, total - available);
        out['mem.used_bytes'] = used;
        if (total > 0) out['mem.used_pct'] = clampPct((used / total) * 100);
      }
      const swapTotal = mem.get('SwapTotal');
      const swapFree = mem.get('SwapFree');
      if (swapTotal !== undefined) out['swap.total_bytes'] = swapTotal;
      if (swapTotal !== undefined && swapFree !== undefined)
        out['swap.used_bytes'] = Math.max(0, swapTotal - swapFree);
    }

    if (cur.load) {
      out['load.1m'] = cur.load[0];
      out['load.5m'] = cur.load[1];
      out['load.15m'] = cur.load[2];
    }

    if (cur.disk) {
      out['disk.total_bytes'] = cur.disk.total;
      out['disk.used_bytes'] = cur.disk.used;
      out['disk.available_bytes'] = cur.disk.available;
      const denom = cur.disk.used + cur.disk.available;
      if (denom > 0) out['disk.used_pct'] = clampPct((cur.disk.used / denom) * 100);
    }

    if (cur.net) {
      let rx = 0;
      let tx = 0;
      let dRx = 0;
      let dTx = 0;
      for (const [iface, c] of cur.net) {
        rx += c.rx;
        tx += c.tx;
        const p = prev.net?.get(iface);
        // A counter that went down was reset (interface re-created); its traffic since is unknown.
        if (p) {
          dRx += Math.max(0, c.rx - p.rx);
          dTx += Math.max(0, c.tx - p.tx);
        }
      }
      out['net.rx_bytes'] = rx;
      out['net.tx_bytes'] = tx;
      if (prev.net && ratesOk) {
        out['net.rx_bytes_per_s'] = probe ? 0 : dRx / dtSec;
        out['net.tx_bytes_per_s'] = probe ? 0 : dTx / dtSec;
      }
    }

    if (cur.uptime !== undefined) out['uptime.seconds'] = cur.uptime;
    if (cur.procsRunning !== undefined) out['procs.running'] = cur.procsRunning;
    if (cur.procsBlocked !== undefined) out['procs.blocked'] = cur.procsBlocked;
    if (cur.procsTotal !== undefined) out['procs.total'] = cur.procsTotal;

    let maxTemp: number | undefined;
    for (const [zone, celsius] of cur.temps) {
      out[`temp.${zone}_c`] = celsius;
      maxTemp = maxTemp === undefined ? celsius : Math.max(maxTemp, celsius);
    }
    if (maxTemp !== undefined) out['temp.max_c'] = maxTemp;

    if (ratesOk) {
      let total: number | undefined;
      for (const [domain, c] of cur.rapl) {
        const p = prev.rapl.get(domain);
        if (!p) continue;
        let watts: number;
        if (probe) {
          watts = 0;
        } else {
          let dUj = c.energyUj - p.energyUj;
          if (dUj < 0) {
            // The counter wrapped at max_energy_range_uj; without that bound the delta is unknown.
            if (c.maxRangeUj === undefined || c.maxRangeUj <= 0) continue;
            dUj = c.maxRangeUj - p.energyUj + c.energyUj;
            if (dUj < 0) continue;
          }
          watts = dUj / 1e6 / dtSec;
        }
        out[`power.${domain}_w`] = watts;
        if (c.topLevel && !c.psys) total = (total ?? 0) + watts;
      }
      if (total !== undefined) out['power.total_w'] = total;
    }
    return out;
  }
}

function clampPct(value: number): number {
  return Math.min(100, Math.max(0, value));
}
