// OTA benchmark with real boxes: three boxes laid out by infra/box/install.sh run the device agent under the
// launcher, each with its own state dir, enrolled in a real fleet-service process. Each run builds nothing
// new: releases are built and signed with the release CLI up front; the run uploads the next one with the CLI
// and rolls it out in two phases (one box, then 100%) with auto-advance. Prints
// - rollout start -> all three boxes healthy (committed on the new slot in boot.json, agentVersion in the API),
//   with a per-box breakdown from the box's update history (GET /api/v1/devices/:id/updates) and its log;
// - in the same run, the bare mechanics of the same update as a baseline: the bundle fetched over HTTP from
//   the fleet service, unpacked with tar, and the box restarted until it is connected again, for one box,
//   then for the other two at once (the rollout's two phases);
// - SIGTERM -> exit of the fleet service with the boxes connected, idle and with a bundle download stalled
//   in flight (a client that stopped reading half way).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { unpackBundle } from '@agentbox/ota';
import { sleep, waitFor } from '@agentbox/test-support';
import {
  type DeviceDto,
  type DeviceListResponse,
  type DeviceUpdateDto,
  type RolloutDetailDto,
} from '@agentbox/schemas';
import { readBootJson, readSlotVersion, releaseCliRun, type LauncherBox } from '../support/box.js';
import { bumpMinor, currentAgentVersion, OtaSetup } from '../support/ota.js';

const BOXES = 3;
const RUNS = Math.max(1, Number(process.env.BENCH_OTA_RUNS ?? 3));
/** A further run starts only if the previous run's duration still fits in this budget. */
const BUDGET_MS = Number(process.env.BENCH_OTA_BUDGET_SEC ?? 360) * 1_000;
/** How often the API and boot.json are read while waiting; the observed figures carry up to this much. */
const POLL_MS = 100;
/** A stalled download has read this much of the bundle before it stops reading. */
const STALL_AFTER_BYTES = 2 ** 20;
const X = currentAgentVersion;
const TARGETS = Array.from({ length: RUNS }, (_, i) => bumpMinor(X, i + 1));

const ota = new OtaSetup('agentbox-bench-ota-');

const seconds = (ms: number | undefined) =>
  ms === undefined || !Number.isFinite(ms) ? '-' : (ms / 1000).toFixed(2);

function median(values: number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

async function devices(): Promise<Map<string, DeviceDto>> {
  const response = await ota.platform.api.request<DeviceListResponse>('GET', '/api/v1/devices?limit=100');
  if (response.status !== 200) throw new Error(`devices: ${response.status}`);
  return new Map(response.body.items.map((device) => [device.id, device]));
}

/** Waits until every box is online with a connection made at or after `since` (epoch ms). */
async function allReconnected(since: number, what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      const list = await devices();
      return ota.deviceIds.every((id) => {
        const device = list.get(id);
        return device?.online === true && Date.parse(device.connectedAt ?? '') >= since;
      });
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
}

async function upload(version: string): Promise<string> {
  const { platform } = ota;
  await releaseCliRun([
    'upload',
    '--url',
    platform.fleet.url,
    '--token',
    platform.api.accessToken,
    '--manifest',
    ota.manifestOf(version),
    '--bundle',
    ota.bundleOf(version),
  ]);
  const list = await platform.api.request<
    | { items?: Array<{ id: string; version: string; status: string }> }
    | Array<{ id: string; version: string; status: string }>
  >('GET', '/api/v1/releases');
  const items = Array.isArray(list.body) ? list.body : (list.body.items ?? []);
  const release = items.find((item) => item.version === version);
  if (release?.status !== 'ready')
    throw new Error(`release ${version} is not ready: ${JSON.stringify(release)}`);
  return release.id;
}

function httpGet(url: string, token: string): { request: ClientRequest; response: Promise<IncomingMessage> } {
  const request = httpRequest(url, { headers: { authorization: `Bearer ${token}` }, agent: false });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  request.end();
  return { request, response };
}

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`);
}

// ------------------------------------------------------------------ baseline: the bare mechanics

interface BareUpdate {
  downloadMs: number;
  unpackMs: number;
  /** SIGTERM to the launcher until the fleet service saw the box connect again (its connectedAt). */
  restartMs: number;
}

/** One box: the bundle over HTTP (admin token, same route), `tar -xzf`, and a plain restart until connected. */
async function bareUpdate(index: number, releaseId: string, dir: string): Promise<BareUpdate> {
  const box = ota.boxes[index]!;
  const deviceId = ota.deviceIds[index]!;
  mkdirSync(join(dir, 'tree'), { recursive: true });
  const file = join(dir, 'bundle.tar.gz');
  const started = performance.now();
  const { response } = httpGet(
    `${ota.platform.fleet.url}/api/v1/releases/${releaseId}/artifact`,
    ota.platform.api.accessToken,
  );
  const body = await response;
  if (body.statusCode !== 200) throw new Error(`baseline download: ${body.statusCode}`);
  await pipeline(body, createWriteStream(file));
  const downloaded = performance.now();
  await run('tar', ['-xzf', file, '-C', join(dir, 'tree')]);
  const unpacked = performance.now();
  const stopAt = Date.now();
  await box.stop();
  box.start();
  const device = await waitFor(
    `box ${index} connected again`,
    async () => {
      const view = (await devices()).get(deviceId);
      return view?.online && Date.parse(view.connectedAt ?? '') >= stopAt ? view : undefined;
    },
    { timeoutMs: 90_000, intervalMs: POLL_MS },
  );
  rmSync(dir, { recursive: true, force: true });
  return {
    downloadMs: downloaded - started,
    unpackMs: unpacked - downloaded,
    restartMs: Date.parse(device.connectedAt!) - stopAt,
  };
}

interface Baseline {
  /** Wall time of each round: box 0 alone, then boxes 1 and 2 at once. */
  rounds: number[];
  totalMs: number;
  boxes: BareUpdate[];
  /**
   * Not part of the baseline: the release's bundle through `unpackBundle` of @agentbox/ota (what a box runs
   * to install, with its entry checks) in this process, alone, to tell its cost from the box's context.
   */
  unpackBundleMs: number;
}

async function baseline(version: string, releaseId: string, runIndex: number): Promise<Baseline> {
  const dirOf = (i: number) => join(ota.work, `baseline-${runIndex}-${i}`);
  const slot = join(ota.work, `unpack-${runIndex}`);
  const unpackStarted = performance.now();
  await unpackBundle(ota.bundleOf(version), slot);
  const unpackBundleMs = performance.now() - unpackStarted;
  rmSync(slot, { recursive: true, force: true });
  const first = performance.now();
  const canary = await bareUpdate(0, releaseId, dirOf(0));
  const second = performance.now();
  const rest = await Promise.all([1, 2].map((i) => bareUpdate(i, releaseId, dirOf(i))));
  const end = performance.now();
  return {
    rounds: [second - first, end - second],
    totalMs: end - first,
    boxes: [canary, ...rest],
    unpackBundleMs,
  };
}

// ------------------------------------------------------------------ the rollout

interface BoxBreakdown {
  index: number;
  phase: number;
  /** From rollout start (epoch ms of the POST) to the offer (the service's offeredAt). */
  offeredAfterMs: number;
  /** Offer -> first `downloading` report: desired state delivered, signatures and disk checked. */
  offerMs: number;
  /** `downloading` -> `downloaded`: HTTP download with resume, size and SHA-256 checked. */
  downloadMs: number;
  /** `downloaded` -> `rebooting`: unpacked into the inactive slot, slot.json, boot.json pending. */
  installMs: number;
  /** `rebooting` -> `healthy` (box clock): old agent stopped, launcher, new agent up, health proven, commit. */
  rebootMs: number;
  /** Parts of rebootMs from the box's log: to the new process's first line, to connected, to committed. */
  toNewProcessMs: number | undefined;
  toConnectedMs: number | undefined;
  toCommittedMs: number | undefined;
  /** `healthy` reported -> stored by the service. */
  reportMs: number;
  /** Rollout start -> this box's `healthy` stored by the service. */
  healthyAfterMs: number;
  /** Rollout start -> seen healthy by the benchmark (boot.json committed on the new slot, agentVersion in the API). */
  observedAfterMs: number;
}

interface RolloutRun {
  version: string;
  /** Rollout start -> all three seen healthy (polled every POLL_MS). */
  observedMs: number;
  /** Rollout start -> the last `healthy` report stored (the service's receivedAt). */
  lastHealthyMs: number;
  /** Rollout start -> GET shows the rollout completed. */
  completedMs: number;
  /** The canary's `healthy` stored -> the second phase's first offer. */
  advanceMs: number;
  boxes: BoxBreakdown[];
}

interface LogLine {
  time: number;
  pid: number;
  text: string;
}

function logLines(box: LauncherBox): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of box.log().split('\n')) {
    if (!text.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(text) as { time?: unknown; pid?: unknown };
      if (typeof parsed.time === 'number' && typeof parsed.pid === 'number')
        lines.push({ time: parsed.time, pid: parsed.pid, text });
    } catch {
      // A line cut by a concurrent write.
    }
  }
  return lines;
}

/** Splits the restart by the box's own log: the old process's stop line, the new process's lines. */
function restartSplit(box: LauncherBox, rebootingAt: number) {
  const lines = logLines(box).filter((line) => line.time >= rebootingAt);
  const stopping = lines.find((line) => line.text.includes('update installed: stopping'));
  if (!stopping) return { toNewProcessMs: undefined, toConnectedMs: undefined, toCommittedMs: undefined };
  const next = lines.find((line) => line.time >= stopping.time && line.pid !== stopping.pid);
  const ofNew = next ? lines.filter((line) => line.pid === next.pid) : [];
  const at = (needle: string) => ofNew.find((line) => line.text.includes(needle))?.time;
  const since = (time: number | undefined) => (time === undefined ? undefined : time - rebootingAt);
  return {
    toNewProcessMs: since(next?.time),
    toConnectedMs: since(at('"msg":"connected"')),
    toCommittedMs: since(at('update committed')),
  };
}

async function rollout(version: string, releaseId: string): Promise<RolloutRun> {
  const { deviceIds, boxes } = ota;
  const api = ota.platform.api;
  const created = await api.request<{ id: string }>('POST', '/api/v1/rollouts', {
    releaseId,
    targets: { deviceIds },
    phases: [
      { name: 'canary', count: 1 },
      { name: 'everyone', percent: 100 },
    ],
    successThresholdPct: 100,
    autoAdvance: true,
    abort: { failurePct: 50, minFinished: 1 },
    perBoxTimeoutSec: 300,
    maxWaitSec: 0,
    healthDeadlineSec: 120,
  });
  if (created.status !== 201) throw new Error(`create rollout: ${JSON.stringify(created.body)}`);
  const id = created.body.id;
  const view = async () => {
    const response = await api.request<RolloutDetailDto>('GET', `/api/v1/rollouts/${id}`);
    if (response.status !== 200) throw new Error(`rollout ${id}: ${response.status}`);
    return response.body;
  };

  const startedAt = Date.now();
  const started = performance.now();
  const start = await api.request('POST', `/api/v1/rollouts/${id}/start`);
  if (start.status !== 200) throw new Error(`start rollout: ${JSON.stringify(start.body)}`);

  const observed = new Map<number, number>();
  let completedMs: number | undefined;
  let detail = await view();
  const deadline = started + 10 * 60_000;
  while (observed.size < BOXES || completedMs === undefined) {
    if (performance.now() > deadline) {
      throw new Error(
        `rollout not done in 10 min: ${JSON.stringify(detail.boxes)}\n${boxes.map((box) => box.log().slice(-3000)).join('\n')}`,
      );
    }
    const list = await devices();
    for (let i = 0; i < BOXES; i += 1) {
      if (observed.has(i)) continue;
      const device = list.get(deviceIds[i]!);
      if (!device?.online || device.agentVersion !== version) continue;
      const boot = readBootJson(boxes[i]!.box);
      if (
        boot.pending === null &&
        boot.last?.result === 'committed' &&
        boot.last.version === version &&
        boot.last.slot === boot.active &&
        readSlotVersion(boxes[i]!.box, boot.active) === version
      ) {
        observed.set(i, performance.now() - started);
      }
    }
    if (completedMs === undefined) {
      detail = await view();
      if (detail.status === 'aborted' || detail.status === 'canceled' || detail.status === 'paused') {
        throw new Error(`rollout ${detail.status}: ${JSON.stringify(detail.boxes)}`);
      }
      if (detail.status === 'completed') completedMs = performance.now() - started;
    }
    await sleep(POLL_MS);
  }

  const breakdown: BoxBreakdown[] = [];
  for (let i = 0; i < BOXES; i += 1) {
    const response = await api.request<DeviceUpdateDto[]>('GET', `/api/v1/devices/${deviceIds[i]}/updates`);
    if (response.status !== 200) throw new Error(`updates of box ${i}: ${response.status}`);
    const reports = response.body.filter((update) => update.rolloutId === id);
    const first = (status: DeviceUpdateDto['status']) => {
      const report = reports
        .filter((update) => update.status === status)
        .sort((a, b) => Date.parse(a.reportedAt) - Date.parse(b.reportedAt))[0];
      if (!report) throw new Error(`box ${i}: no ${status} report for rollout ${id}`);
      return report;
    };
    const box = detail.boxes.find((entry) => entry.deviceId === deviceIds[i])!;
    const offeredAt = Date.parse(box.offeredAt ?? '');
    const downloading = Date.parse(first('downloading').reportedAt);
    const downloaded = Date.parse(first('downloaded').reportedAt);
    const rebooting = Date.parse(first('rebooting').reportedAt);
    const healthy = first('healthy');
    breakdown.push({
      index: i,
      phase: box.phase,
      offeredAfterMs: offeredAt - startedAt,
      offerMs: downloading - offeredAt,
      downloadMs: downloaded - downloading,
      installMs: rebooting - downloaded,
      rebootMs: Date.parse(healthy.reportedAt) - rebooting,
      ...restartSplit(boxes[i]!, rebooting),
      reportMs: Date.parse(healthy.receivedAt) - Date.parse(healthy.reportedAt),
      healthyAfterMs: Date.parse(healthy.receivedAt) - startedAt,
      observedAfterMs: observed.get(i)!,
    });
  }
  const canary = breakdown.filter((box) => box.phase === 0);
  const later = breakdown.filter((box) => box.phase > 0);
  return {
    version,
    observedMs: Math.max(...observed.values()),
    lastHealthyMs: Math.max(...breakdown.map((box) => box.healthyAfterMs)),
    completedMs,
    advanceMs:
      Math.min(...later.map((box) => box.offeredAfterMs)) -
      Math.max(...canary.map((box) => box.healthyAfterMs)),
    boxes: breakdown,
  };
}

// ------------------------------------------------------------------ fleet service stop

interface Stalled {
  bytes: number;
  closedAt: number | undefined;
  request: ClientRequest;
  /** Bytes of the bundle the service had not yet handed to the kernel when it was stopped (at least). */
  unsent: number | undefined;
}

/** Receive and send queues of the TCP connection between two local ports, from `ss` (undefined without it). */
function queues(localPort: number, peerPort: number): { recv: number; send: number } | undefined {
  const result = spawnSync(
    'ss',
    ['-tnH', 'state', 'established', `( sport = :${localPort} and dport = :${peerPort} )`],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) return undefined;
  const [recv, send] = result.stdout.trim().split(/\s+/).map(Number);
  return recv === undefined || send === undefined || Number.isNaN(recv) || Number.isNaN(send)
    ? undefined
    : { recv, send };
}

/** A bundle download that read STALL_AFTER_BYTES and then stopped reading, its connection left open. */
async function stalledDownload(releaseId: string): Promise<Stalled> {
  const { request, response } = httpGet(
    `${ota.platform.fleet.url}/api/v1/releases/${releaseId}/artifact`,
    ota.platform.api.accessToken,
  );
  // Once the service goes away the socket errors; that is what is being measured, not a failure.
  request.on('error', () => undefined);
  const body = await response;
  if (body.statusCode !== 200) throw new Error(`stalled download: ${body.statusCode}`);
  const size = Number(body.headers['content-length']);
  const stalled: Stalled = { bytes: 0, closedAt: undefined, request, unsent: undefined };
  body.on('error', () => undefined);
  body.socket.once('close', () => (stalled.closedAt = performance.now()));
  await new Promise<void>((resolve) => {
    body.on('data', (chunk: Buffer) => {
      stalled.bytes += chunk.byteLength;
      if (stalled.bytes >= STALL_AFTER_BYTES && !body.isPaused()) {
        body.pause();
        resolve();
      }
    });
  });
  // Let the service fill the socket buffers and block on them: the download is in flight, not finishing.
  await sleep(1_000);
  if (stalled.closedAt !== undefined) throw new Error('the stalled download closed before the stop');
  // What the client read, what waits in its receive queue and in the service's send queue: the rest of the
  // bundle is still in the service's hands, so its response is unfinished, not merely unacknowledged.
  const client = queues(body.socket.localPort!, ota.platform.fleet.httpPort);
  const server = queues(ota.platform.fleet.httpPort, body.socket.localPort!);
  if (client && server) {
    stalled.unsent = size - body.socket.bytesRead - client.recv - server.send;
    if (stalled.unsent <= 0) {
      throw new Error('the service wrote the whole bundle into the socket: the download is not in flight');
    }
  }
  return stalled;
}

interface StopFigure {
  stopMs: number;
  /** SIGTERM -> the stalled download's socket closed by the service. */
  clientClosedMs: number | undefined;
  stalledBytes: number | undefined;
  unsentBytes: number | undefined;
}

/** SIGTERM -> exit of the fleet service (optionally with a stalled download), then the same service again. */
async function measureStop(releaseId: string | undefined): Promise<StopFigure> {
  const { platform } = ota;
  const { httpPort, mqttPort } = platform.fleet;
  const stalled = releaseId === undefined ? undefined : await stalledDownload(releaseId);
  const signalled = performance.now();
  await platform.fleet.kill('SIGTERM');
  const stopMs = performance.now() - signalled;
  stalled?.request.destroy();
  const restartedAt = Date.now();
  await platform.start({ httpPort, mqttPort });
  await allReconnected(restartedAt, 'every box connected to the restarted fleet service');
  return {
    stopMs,
    clientClosedMs: stalled?.closedAt === undefined ? undefined : stalled.closedAt - signalled,
    stalledBytes: stalled?.bytes,
    unsentBytes: stalled?.unsent,
  };
}

// ------------------------------------------------------------------ main

interface Run {
  baseline: Baseline;
  rollout: RolloutRun;
  idleStop: StopFigure;
  stalledStop: StopFigure;
  durationMs: number;
  loadBefore: string;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  for (const row of rows)
    console.log(`  ${row.map((cell, column) => pad(cell, widths[column]!)).join('  ')}`);
}

function printRun(index: number, result: Run): void {
  const { baseline: bare, rollout: done } = result;
  console.log(
    `run ${index + 1}: ${X} -> ${done.version}, ${seconds(result.durationMs)} s in all, load average before ${result.loadBefore}`,
  );
  printTable([
    [
      'box',
      'phase',
      'offered',
      'offer',
      'download',
      'install',
      'reboot',
      '(new proc',
      'connected',
      'committed)',
      'report',
      'healthy',
      'seen',
    ],
    ...done.boxes.map((box) => [
      String(box.index),
      String(box.phase),
      `+${seconds(box.offeredAfterMs)}`,
      seconds(box.offerMs),
      seconds(box.downloadMs),
      seconds(box.installMs),
      seconds(box.rebootMs),
      seconds(box.toNewProcessMs),
      seconds(box.toConnectedMs),
      seconds(box.toCommittedMs),
      seconds(box.reportMs),
      `+${seconds(box.healthyAfterMs)}`,
      `+${seconds(box.observedAfterMs)}`,
    ]),
  ]);
  console.log(
    `  baseline, bare (HTTP download, tar -xzf, restart until connected); unpackBundle alone in the bench process: ${seconds(bare.unpackBundleMs)} s`,
  );
  printTable([
    ['box', 'download', 'unpack', 'restart'],
    ...bare.boxes.map((box, i) => [
      String(i),
      seconds(box.downloadMs),
      seconds(box.unpackMs),
      seconds(box.restartMs),
    ]),
  ]);
}

async function main(): Promise<void> {
  const benchStarted = performance.now();
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load()}`,
  );
  console.log(
    `workload: ${BOXES} real boxes (install.sh layout, launcher + device agent, own state dirs) on ${X}; per run the next release (${TARGETS.join(', ')}), phases 1 box -> 100%, auto-advance, rollout tick 500 ms; up to ${RUNS} runs within ${BUDGET_MS / 1000} s`,
  );
  const runs: Run[] = [];
  try {
    const built = performance.now();
    await ota.buildReleases([X, ...TARGETS]);
    console.log(`releases built and signed with the release CLI in ${seconds(performance.now() - built)} s`);
    const fleetStarted = performance.now();
    await ota.startFleet({
      count: BOXES,
      version: X,
      deviceName: (i) => `bench-ota-box-${i}`,
      hardwareId: (i) => `bench-ota-box-${i}-hardware`,
    });
    console.log(`fleet service and ${BOXES} boxes online in ${seconds(performance.now() - fleetStarted)} s`);

    for (let i = 0; i < RUNS; i += 1) {
      const elapsed = performance.now() - benchStarted;
      const last = runs.at(-1)?.durationMs ?? 0;
      if (i > 0 && elapsed + last > BUDGET_MS) {
        console.log(`stopping after ${i} run(s): another would pass the ${BUDGET_MS / 1000} s budget`);
        break;
      }
      const runStarted = performance.now();
      const loadBefore = load();
      const version = TARGETS[i]!;
      const releaseId = await upload(version);
      const bare = await baseline(version, releaseId, i);
      await sleep(1_000);
      const done = await rollout(version, releaseId);
      const idleStop = await measureStop(undefined);
      const stalledStop = await measureStop(releaseId);
      const result: Run = {
        baseline: bare,
        rollout: done,
        idleStop,
        stalledStop,
        durationMs: performance.now() - runStarted,
        loadBefore,
      };
      runs.push(result);
      printRun(i, result);
    }
  } finally {
    await ota.stopBoxes();
    await ota.platform.stop();
    if (!process.env.AGENTBOX_E2E_KEEP) ota.removeWork();
  }

  const column = (pick: (run: Run) => number | undefined) => [
    ...runs.map((run) => seconds(pick(run))),
    seconds(median(runs.map((run) => pick(run) ?? Number.NaN))),
  ];
  const ratio = (run: Run) => run.rollout.observedMs / run.baseline.totalMs;
  console.log('');
  console.log(`summary (seconds; ${runs.length} run(s), median last; load average now ${load()}):`);
  printTable([
    ['measure', ...runs.map((_, i) => `run ${i + 1}`), 'median'],
    ['rollout start -> all 3 healthy (seen: boot.json + API)', ...column((run) => run.rollout.observedMs)],
    ['rollout start -> last healthy report stored', ...column((run) => run.rollout.lastHealthyMs)],
    ['rollout start -> GET shows completed', ...column((run) => run.rollout.completedMs)],
    ['canary healthy -> second phase offered', ...column((run) => run.rollout.advanceMs)],
    ['baseline: 1 box, then 2 at once (bare)', ...column((run) => run.baseline.totalMs)],
    ['  baseline round 1 (1 box)', ...column((run) => run.baseline.rounds[0])],
    ['  baseline round 2 (2 boxes)', ...column((run) => run.baseline.rounds[1])],
    [
      'ratio rollout / baseline',
      ...runs.map((run) => ratio(run).toFixed(2)),
      median(runs.map(ratio)).toFixed(2),
    ],
    ['fleet stop SIGTERM -> exit, idle', ...column((run) => run.idleStop.stopMs)],
    ['fleet stop SIGTERM -> exit, download stalled', ...column((run) => run.stalledStop.stopMs)],
    ['  SIGTERM -> stalled download closed', ...column((run) => run.stalledStop.clientClosedMs)],
  ]);
  const all = runs.flatMap((run) => run.rollout.boxes);
  const bare = runs.flatMap((run) => run.baseline.boxes);
  const stepMedian = (pick: (box: BoxBreakdown) => number | undefined) =>
    seconds(median(all.map((box) => pick(box) ?? Number.NaN)));
  console.log(
    `per box, median of ${all.length} box updates (seconds) against the bare steps (${bare.length}):`,
  );
  printTable([
    ['step', 'rollout', 'bare'],
    ['offer -> downloading (desired state, signatures, disk)', stepMedian((box) => box.offerMs), '-'],
    [
      'downloading -> downloaded (HTTP, size, SHA-256)',
      stepMedian((box) => box.downloadMs),
      seconds(median(bare.map((box) => box.downloadMs))),
    ],
    [
      'downloaded -> rebooting (unpack into slot, boot.json)',
      stepMedian((box) => box.installMs),
      seconds(median(bare.map((box) => box.unpackMs))),
    ],
    [
      '  unpackBundle of @agentbox/ota alone, in the bench process',
      '-',
      seconds(median(runs.map((run) => run.baseline.unpackBundleMs))),
    ],
    [
      'rebooting -> healthy (restart, health proof, commit)',
      stepMedian((box) => box.rebootMs),
      seconds(median(bare.map((box) => box.restartMs))),
    ],
    ['  rebooting -> new process logs', stepMedian((box) => box.toNewProcessMs), '-'],
    ['  rebooting -> connected', stepMedian((box) => box.toConnectedMs), '-'],
    ['  rebooting -> committed', stepMedian((box) => box.toCommittedMs), '-'],
    ['healthy reported -> stored', stepMedian((box) => box.reportMs), '-'],
  ]);
  const unsent = runs.map((run) => run.stalledStop.unsentBytes);
  console.log(
    `stalled download: read ${STALL_AFTER_BYTES} bytes, then stopped reading with its connection open; SIGTERM 1 s later, with ${unsent.some((bytes) => bytes === undefined) ? 'an unknown number of' : `${Math.min(...(unsent as number[]))} to ${Math.max(...(unsent as number[]))}`} bytes of the bundle not yet written by the service (bundle size minus bytes read, the client's receive queue and the service's send queue, from ss)`,
  );
  console.log(
    'baseline: the bundle fetched from the same route with an admin token and written to disk, tar -xzf, then the launcher stopped (SIGTERM, the agent stops cleanly) and started until the service records the box connected; box 0 alone, then boxes 1 and 2 at once, as the rollout phases go. Left out: offer delivery, signature and hash checks, slot bookkeeping, the health proof, the reports, the phase tick.',
  );
  console.log(`bench took ${seconds(performance.now() - benchStarted)} s`);
}

await main();
