// Rollout benchmark: a real fleet-service process (embedded broker + SQLite) rolls a real signed release
// out to N simulated boxes in four phases (1% -> 10% -> 50% -> 100%, advancing by itself). Prints the
// time from start to every box healthy, the status reports ingested per second and, in the same run, the
// same boxes and messages through a bare broker driven phase by phase with no service in between. Also
// the size of a real device-agent bundle and what resuming a cut download costs.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { topics, type UpdateOffer } from '@agentbox/schemas';
import {
  buildBundle,
  createReleaseManifest,
  createRootMetadata,
  generateKeyPair,
  signEnvelope,
  type BundleInfo,
} from '@agentbox/ota';
import { freePort, SimulatedBox, UPDATE_STEPS, waitFor, type UpdateHandler } from '@agentbox/test-support';
import { FleetApi } from '../support/api.js';
import { provisionBoxes } from '../support/fleet-boxes.js';
import { startFleet, type FleetProcess } from '../support/processes.js';

const BOXES = Number(process.env.BENCH_ROLLOUT_BOXES ?? 1000);
const TICK_MS = Number(process.env.BENCH_ROLLOUT_TICK_MS ?? 500);
const DOWNLOAD_RUNS = Number(process.env.BENCH_DOWNLOAD_RUNS ?? 5);
/** Connections opened at once; the rest wait, so the broker's authentication is not flooded. */
const CONNECT_BATCH = 50;
const PROVISION_CONCURRENCY = 4;
const PHASES = [
  { name: 'canary', percent: 1 },
  { name: 'early', percent: 10 },
  { name: 'half', percent: 50 },
  { name: 'all', percent: 100 },
];
/** What a box that takes the update reports, one message each, as the device agent does. */
const REPORTS = UPDATE_STEPS.healthy;
const RELEASE_VERSION = '1.1.0';
const DAY_MS = 86_400_000;

interface Credentials {
  deviceId: string;
  url: string;
  password: string;
}

/** Per box: when it saw its offer and when its first and last reports were acknowledged by the broker. */
interface BoxTiming {
  offeredAt: number;
  firstReportAt: number;
  healthyAt: number;
}

/** What a run of simulated boxes saw: each box's timing, and the first offer with the document that carried it. */
interface BoxesRun {
  boxes: SimulatedBox[];
  timings: Map<string, BoxTiming>;
  offer?: { offer: UpdateOffer; document: string };
}

/**
 * Simulated boxes (docs/protocol.md section 12) that take `spec.update` from their retained desired state and
 * report each step on `up/update` as the device agent does, one message each; installing is simulated (no
 * download, no restart), the MQTT traffic is real. Connects CONNECT_BATCH at a time.
 */
async function connectAll(credentials: Credentials[], onHealthy: () => void): Promise<BoxesRun> {
  const run: BoxesRun = { boxes: [], timings: new Map() };
  const install: UpdateHandler = async (offer, box, document) => {
    const offeredAt = performance.now();
    run.offer ??= { offer, document: document.toString() };
    let firstReportAt = 0;
    await box.takeUpdate(offer, 'healthy', () => (firstReportAt ||= performance.now()));
    run.timings.set(box.deviceId, { offeredAt, firstReportAt, healthyAt: performance.now() });
    onHealthy();
  };
  const connect = async (item: Credentials) => {
    const box = await SimulatedBox.connect({
      ...item,
      updates: install,
      mqtt: { connectTimeout: 30_000 },
      onError: (error) => {
        console.error(`box ${item.deviceId}: ${error.message}`);
        process.exitCode = 1;
      },
    });
    await box.goOnline();
    return box;
  };
  for (let i = 0; i < credentials.length; i += CONNECT_BATCH) {
    run.boxes.push(...(await Promise.all(credentials.slice(i, i + CONNECT_BATCH).map(connect))));
  }
  return run;
}

/** A time series of a counter, sampled until stopped, to find when it reached a value. */
class Sampler {
  private readonly samples: Array<[number, number]> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly read: () => number,
    intervalMs = 10,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes a last sample: the counter may have reached its end since the previous one. */
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    this.samples.push([performance.now(), this.read()]);
  }

  /** The first sample time at which the counter had reached `value`. */
  reached(value: number): number {
    const hit = this.samples.find(([, count]) => count >= value);
    if (!hit) throw new Error(`counter never reached ${value}`);
    return hit[0];
  }
}

interface PhaseFigures {
  name: string;
  boxes: number;
  /** First offer seen by a box of the phase, relative to the start. */
  offeredAfterMs: number;
  /** Reports of the phase over the time from its first report to the last one stored / received. */
  reportsPerSecond: number;
  ingestWindowMs: number;
}

interface RunFigures {
  /** From start until every box has reported healthy. */
  allHealthyMs: number;
  phases: PhaseFigures[];
  /** Every report over the sum of the phases' ingest windows. */
  reportsPerSecond: number;
}

function phaseFigures(
  phases: Array<{ name: string; start: number; end: number }>,
  boxesByPhase: BoxTiming[][],
  started: number,
  ingestedAt: (cumulativeReports: number) => number,
): { phases: PhaseFigures[]; reportsPerSecond: number } {
  const figures = phases.map((phase, index) => {
    const timings = boxesByPhase[index] ?? [];
    const firstReport = Math.min(...timings.map((timing) => timing.firstReportAt));
    const window = ingestedAt(phase.end * REPORTS.length) - firstReport;
    const reports = (phase.end - phase.start) * REPORTS.length;
    return {
      name: phase.name,
      boxes: phase.end - phase.start,
      offeredAfterMs: Math.min(...timings.map((timing) => timing.offeredAt)) - started,
      reportsPerSecond: reports / (window / 1000),
      ingestWindowMs: window,
    };
  });
  const totalWindow = figures.reduce((sum, phase) => sum + phase.ingestWindowMs, 0);
  return { phases: figures, reportsPerSecond: (BOXES * REPORTS.length) / (totalWindow / 1000) };
}

interface Signed {
  rootFile: string;
  manifest: unknown;
}

function signRelease(dir: string, bundle: BundleInfo): Signed {
  const rootKey = generateKeyPair();
  const releaseKey = generateKeyPair();
  const root = createRootMetadata({
    version: 1,
    expires: new Date(Date.now() + 365 * DAY_MS).toISOString(),
    rootKeys: [rootKey.publicKey],
    releaseKeys: [releaseKey.publicKey],
  });
  const rootFile = join(dir, 'root.json');
  writeFileSync(rootFile, JSON.stringify(signEnvelope(root, [rootKey.privateKeyPem])));
  const manifest = createReleaseManifest({
    type: 'release',
    version: RELEASE_VERSION,
    channel: 'stable',
    createdAt: new Date().toISOString(),
    expires: new Date(Date.now() + 30 * DAY_MS).toISOString(),
    artifact: {
      name: `agentbox-device-agent-${RELEASE_VERSION}.tar.gz`,
      size: bundle.size,
      sha256: bundle.sha256,
    },
    compatibility: { arch: [bundle.arch] },
  });
  return { rootFile, manifest: signEnvelope(manifest, [releaseKey.privateKeyPem]) };
}

async function provision(api: FleetApi): Promise<Credentials[]> {
  const claimToken = await api.createClaimToken({ maxUses: BOXES, ttlHours: 2 });
  const enrolled = await provisionBoxes(api.baseUrl, claimToken, BOXES, {
    prefix: 'bench-rollout',
    concurrency: PROVISION_CONCURRENCY,
  });
  return enrolled.map(({ deviceId, mqtt }) => ({ deviceId, url: mqtt.url, password: mqtt.password }));
}

interface RolloutDetail {
  status: string;
  counts: Record<string, number>;
  startedAt: string | null;
  endedAt: string | null;
  phases: Array<{ name: string; start: number; end: number; counts: Record<string, number> }>;
  boxes: Array<{ deviceId: string; phase: number; status: string }>;
}

interface FleetRun extends RunFigures {
  /** From POST start until GET shows the rollout completed. */
  completedMs: number;
  /** endedAt - startedAt as the service recorded them. */
  serverMs: number;
  phaseBounds: Array<{ name: string; start: number; end: number }>;
  /** A real desired-state document with an offer, for the raw path to send. */
  offerDocument: string;
  offer: UpdateOffer;
}

async function fleetRollout(
  fleet: FleetProcess,
  api: FleetApi,
  releaseId: string,
  dataDir: string,
): Promise<{ run: FleetRun; boxes: SimulatedBox[] }> {
  const provisionStarted = performance.now();
  const credentials = await provision(api);
  console.log(
    `  provisioned ${BOXES} boxes in ${((performance.now() - provisionStarted) / 1000).toFixed(1)} s`,
  );
  let healthy = 0;
  const connectStarted = performance.now();
  const simulated = await connectAll(credentials, () => (healthy += 1));
  const { boxes, timings } = simulated;
  console.log(
    `  connected ${BOXES} boxes in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s (${CONNECT_BATCH} at a time)`,
  );
  const db = new Database(join(dataDir, 'fleet.sqlite'), { readonly: true, fileMustExist: true });
  const online = db.prepare('SELECT count(*) AS n FROM devices WHERE online = 1');
  await waitFor('every box online', () => (online.get() as { n: number }).n >= BOXES, {
    timeoutMs: 120_000,
    intervalMs: 100,
  });

  const created = await api.request<{ id: string }>('POST', '/api/v1/rollouts', {
    releaseId,
    targets: { all: true },
    phases: PHASES,
    autoAdvance: true,
    successThresholdPct: 100,
  });
  if (created.status !== 201) throw new Error(`create rollout: ${JSON.stringify(created.body)}`);
  const id = created.body.id;
  const get = async () => {
    const response = await api.request<RolloutDetail>('GET', `/api/v1/rollouts/${id}`);
    if (response.status !== 200) throw new Error(`get rollout: ${response.status}`);
    return response.body;
  };

  const stored = db.prepare('SELECT count(*) AS n FROM device_updates WHERE rollout_id = ?');
  const sampler = new Sampler(() => (stored.get(id) as { n: number }).n);
  const started = performance.now();
  const start = await api.request('POST', `/api/v1/rollouts/${id}/start`);
  if (start.status !== 200) throw new Error(`start rollout: ${JSON.stringify(start.body)}`);
  let detail = await get();
  await waitFor(
    'rollout completed',
    async () => {
      detail = await get();
      if (detail.status === 'aborted' || detail.status === 'canceled') throw new Error(detail.status);
      return detail.status === 'completed';
    },
    { timeoutMs: 30 * 60_000, intervalMs: 250 },
  );
  const completedMs = performance.now() - started;
  await waitFor('every report stored', () => (stored.get(id) as { n: number }).n >= BOXES * REPORTS.length, {
    timeoutMs: 60_000,
  });
  sampler.stop();
  db.close();
  if (detail.counts.healthy !== BOXES || healthy !== BOXES) {
    throw new Error(`expected ${BOXES} healthy, got ${JSON.stringify(detail.counts)} (boxes: ${healthy})`);
  }

  const boxesByPhase = detail.phases.map((_, index) =>
    detail.boxes
      .filter((box) => box.phase === index)
      .map((box) => timings.get(box.deviceId))
      .filter((timing): timing is BoxTiming => timing !== undefined),
  );
  const phaseBounds = detail.phases.map(({ name, start, end }) => ({ name, start, end }));
  const figures = phaseFigures(phaseBounds, boxesByPhase, started, (count) => sampler.reached(count));
  // Read now: the first offer is recorded while the rollout runs.
  const offered = simulated.offer!;
  return {
    boxes,
    run: {
      ...figures,
      allHealthyMs:
        Math.max(...boxes.map((box) => timings.get(box.deviceId)?.healthyAt ?? Infinity)) - started,
      completedMs,
      serverMs: Date.parse(detail.endedAt ?? '') - Date.parse(detail.startedAt ?? ''),
      phaseBounds,
      offerDocument: offered.document,
      offer: offered.offer,
    },
  };
}

/**
 * The same boxes and messages through a bare Aedes (no authentication, no service): a bare controller
 * publishes each phase's offers (the fleet's own document) and moves on once a bare subscriber on
 * `up/#` has seen every box of the phase report healthy.
 */
async function rawRollout(fleetRun: FleetRun): Promise<RunFigures> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${port}`;
  const credentials = Array.from({ length: BOXES }, (_, i) => ({
    deviceId: `raw-${i}`,
    url,
    password: 'unused',
  }));
  const { boxes, timings } = await connectAll(credentials, () => undefined);
  let received = 0;
  let healthy = 0;
  const subscriber = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bare-subscriber' });
  await subscriber.subscribeAsync(topics.allUpFilter(), { qos: 1 });
  subscriber.on('message', (topic, payload) => {
    if (!topic.endsWith('/up/update')) return;
    received += 1;
    const message = JSON.parse(payload.toString()) as { reports: Array<{ status: string }> };
    if (message.reports[0]?.status === 'healthy') healthy += 1;
  });
  const controller = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bare-controller' });
  const sampler = new Sampler(() => received);
  const started = performance.now();
  for (const phase of fleetRun.phaseBounds) {
    await Promise.all(
      boxes.slice(phase.start, phase.end).map((box) =>
        controller.publishAsync(topics.desired(box.deviceId), fleetRun.offerDocument, {
          qos: 1,
          retain: true,
        }),
      ),
    );
    await waitFor(`raw phase ${phase.name} healthy`, () => healthy >= phase.end, {
      timeoutMs: 300_000,
      intervalMs: 2,
    });
  }
  const allHealthyMs = performance.now() - started;
  await waitFor('every raw report received', () => received >= BOXES * REPORTS.length);
  sampler.stop();
  const figures = phaseFigures(
    fleetRun.phaseBounds,
    fleetRun.phaseBounds.map((phase) =>
      boxes
        .slice(phase.start, phase.end)
        .map((box) => timings.get(box.deviceId) ?? { offeredAt: 0, firstReportAt: 0, healthyAt: 0 }),
    ),
    started,
    (count) => sampler.reached(count),
  );
  await Promise.all([...boxes.map((box) => box.close()), subscriber.endAsync(), controller.endAsync()]);
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  server.close();
  return { ...figures, allHealthyMs };
}

interface Download {
  bytes: number;
  ms: number;
}

/** Downloads the artifact as a box does; `cutAt` drops the connection there and resumes with Range. */
async function download(offer: UpdateOffer, cutAt?: number): Promise<Download> {
  const expected = offer.release.signed.artifact;
  const authorization = `Bearer ${offer.downloadToken}`;
  const hash = createHash('sha256');
  let bytes = 0;
  const started = performance.now();
  const abort = new AbortController();
  const first = await fetch(offer.url, { headers: { authorization }, signal: abort.signal });
  if (first.status !== 200 || !first.body) throw new Error(`download: ${first.status}`);
  const etag = first.headers.get('etag');
  const reader = first.body.getReader();
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    hash.update(chunk.value);
    bytes += chunk.value.byteLength;
    if (cutAt !== undefined && bytes >= cutAt) {
      abort.abort();
      break;
    }
  }
  if (cutAt !== undefined) {
    const resumed = await fetch(offer.url, {
      headers: { authorization, range: `bytes=${bytes}-`, ...(etag ? { 'if-range': etag } : {}) },
    });
    if (resumed.status !== 206) throw new Error(`resume: ${resumed.status}`);
    const rest = Buffer.from(await resumed.arrayBuffer());
    hash.update(rest);
    bytes += rest.byteLength;
  }
  const ms = performance.now() - started;
  if (hash.digest('hex') !== expected.sha256) throw new Error('downloaded bytes do not match the manifest');
  return { bytes, ms };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function printRun(label: string, run: RunFigures): void {
  for (const phase of run.phases) {
    console.log(
      `  ${label} phase ${phase.name.padEnd(6)} ${String(phase.boxes).padStart(5)} boxes: first offer +${(phase.offeredAfterMs / 1000).toFixed(2)} s, ${phase.reportsPerSecond.toFixed(0)} reports/s over ${(phase.ingestWindowMs / 1000).toFixed(2)} s`,
    );
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'agentbox-bench-rollout-'));
  const cpu = cpus()[0]?.model ?? 'cpu';
  try {
    console.log(
      `machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(
      `workload: ${BOXES} boxes, phases ${PHASES.map((phase) => `${phase.percent}%`).join(' -> ')}, auto-advance, ${REPORTS.length} reports per box (QoS 1), rollout tick ${TICK_MS} ms`,
    );

    const bundleStarted = performance.now();
    const bundle = await buildBundle({ version: RELEASE_VERSION, out: join(dir, 'bundle.tar.gz') });
    console.log(
      `device-agent bundle (buildBundle): ${(bundle.size / 2 ** 20).toFixed(1)} MiB (${bundle.size} bytes), ${bundle.files} files, ${bundle.packages} packages, native addons ${bundle.nativeAddons.length}, built in ${((performance.now() - bundleStarted) / 1000).toFixed(1)} s`,
    );
    const signed = signRelease(dir, bundle);

    const fleetDir = join(dir, 'fleet');
    const fleet = await startFleet({
      dataDir: fleetDir,
      env: {
        AGENTBOX_LOG_LEVEL: 'warn',
        AGENTBOX_OTA_ROOT_FILE: signed.rootFile,
        AGENTBOX_ROLLOUT_TICK_MS: String(TICK_MS),
      },
    });
    let fleetRun: FleetRun;
    let downloads: { uncut: number[]; resumed: number[]; resumedBytes: number[] };
    try {
      const api = new FleetApi(fleet.url);
      await api.login('admin', fleet.adminPassword);
      const release = await api.request<{ id: string }>('POST', '/api/v1/releases', signed.manifest);
      if (release.status !== 201) throw new Error(`release: ${JSON.stringify(release.body)}`);
      const uploaded = await fetch(`${fleet.url}/api/v1/releases/${release.body.id}/artifact`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${api.accessToken}`, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(readFileSync(bundle.file)),
      });
      if (uploaded.status !== 200) throw new Error(`artifact: ${uploaded.status} ${await uploaded.text()}`);

      console.log('fleet service (embedded broker + SQLite), authenticated boxes:');
      const { run, boxes } = await fleetRollout(fleet, api, release.body.id, fleetDir);
      fleetRun = run;
      printRun('fleet', run);

      downloads = { uncut: [], resumed: [], resumedBytes: [] };
      // Warm the path once, then alternate so both kinds see the same machine state.
      await download(run.offer);
      for (let i = 0; i < DOWNLOAD_RUNS; i++) {
        downloads.uncut.push((await download(run.offer)).ms);
        const resumed = await download(run.offer, Math.floor(bundle.size / 2));
        downloads.resumed.push(resumed.ms);
        downloads.resumedBytes.push(resumed.bytes);
      }
      await Promise.all(boxes.map((box) => box.close()));
    } finally {
      await fleet.kill('SIGTERM');
    }

    console.log('raw broker (bare Aedes, bare controller and subscriber):');
    const raw = await rawRollout(fleetRun);
    printRun('raw  ', raw);

    console.log('');
    console.log(
      `rollout start -> every box healthy (boxes' acks):  ${(fleetRun.allHealthyMs / 1000).toFixed(2)} s`,
    );
    console.log(
      `rollout start -> GET shows completed:              ${(fleetRun.completedMs / 1000).toFixed(2)} s (server startedAt -> endedAt ${(fleetRun.serverMs / 1000).toFixed(2)} s)`,
    );
    console.log(
      `raw broker, same phases, every box healthy:       ${(raw.allHealthyMs / 1000).toFixed(2)} s`,
    );
    console.log(
      `ratio fleet / raw (time to all healthy):          ${(fleetRun.allHealthyMs / raw.allHealthyMs).toFixed(1)}`,
    );
    console.log(
      `status reports ingested (all phases):             ${fleetRun.reportsPerSecond.toFixed(0)} reports/s`,
    );
    console.log(
      `raw broker, reports received (all phases):        ${raw.reportsPerSecond.toFixed(0)} reports/s`,
    );
    console.log(
      `ratio fleet / raw (reports per second):           ${(fleetRun.reportsPerSecond / raw.reportsPerSecond).toFixed(2)}`,
    );
    const uncut = median(downloads.uncut);
    const resumed = median(downloads.resumed);
    console.log(
      `download ${(bundle.size / 2 ** 20).toFixed(1)} MiB with a box token, median of ${DOWNLOAD_RUNS}: uncut ${uncut.toFixed(0)} ms; cut at 50% + Range resume ${resumed.toFixed(0)} ms (ratio ${(resumed / uncut).toFixed(2)}), bytes ${median(downloads.resumedBytes)} vs ${bundle.size} (+${median(downloads.resumedBytes) - bundle.size})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
