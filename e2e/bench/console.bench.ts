// Console delivery benchmark: headless Chromium with its cache disabled signs in to the console of a real
// fleet-service process and opens each main route in turn, the way a user clicks through it; for each step
// it prints the JavaScript transferred (compressed, as on the wire) and decoded, and the first route's
// total (the login page plus the dashboard after signing in), split, from the build's manifest, into what
// the dashboard needs to show and its chart, which it loads once shown. Budgets: 300 KB for the first
// route before it shows, 150 KB for each later one (docs/benchmarks.md, "Console delivery").
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { waitFor } from '@agentbox/test-support';
import { FleetApi } from '../support/api.js';
import { fillFields, launchChromium } from '../support/browser.js';
import { provisionBoxes } from '../support/fleet-boxes.js';
import { repoRoot, startFleet, type FleetProcess } from '../support/processes.js';
import { machine, runBench } from '../support/bench-run.js';

const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 3);
/** A service already running (e.g. another build, for comparison); otherwise one is started. */
const EXTERNAL_URL = process.env.BENCH_CONSOLE_URL;
const EXTERNAL_PASSWORD = process.env.BENCH_CONSOLE_PASSWORD ?? 'e2e-admin-password';
const FIRST_ROUTE_BUDGET = 300 * 1024;
const LATER_ROUTE_BUDGET = 150 * 1024;
/** How long the network must stay quiet (live stream aside) before a step counts as loaded. */
const QUIET_MS = 500;

interface Transfer {
  type: string;
  url: string;
  encoding: string;
  /** Bytes on the wire, headers included, as DevTools' "transferred". */
  encoded: number;
  /** Bytes after decoding. */
  decoded: number;
}

interface StepFigures {
  name: string;
  ms: number;
  scripts: Transfer[];
}

/** Follows every request of a page over CDP: what is in flight, and what each one transferred. */
class NetworkLog {
  private readonly inFlight = new Map<string, Transfer>();
  private done: Transfer[] = [];
  private lastActivity = performance.now();

  constructor(cdp: CDPSession) {
    cdp.on('Network.requestWillBeSent', (event) => {
      // The live stream never ends; it is not part of loading a route.
      if (event.type === 'EventSource') return;
      const transfer = {
        type: event.type ?? 'Other',
        url: event.request.url,
        encoding: '',
        encoded: 0,
        decoded: 0,
      };
      this.inFlight.set(event.requestId, transfer);
      this.lastActivity = performance.now();
    });
    cdp.on('Network.responseReceived', (event) => {
      const transfer = this.inFlight.get(event.requestId);
      if (!transfer) return;
      const headers = Object.fromEntries(
        Object.entries(event.response.headers).map(([key, value]) => [key.toLowerCase(), String(value)]),
      );
      transfer.encoding = headers['content-encoding'] ?? 'identity';
    });
    cdp.on('Network.dataReceived', (event) => {
      const transfer = this.inFlight.get(event.requestId);
      if (transfer) transfer.decoded += event.dataLength;
    });
    cdp.on('Network.loadingFinished', (event) => {
      const transfer = this.inFlight.get(event.requestId);
      if (!transfer) return;
      transfer.encoded = event.encodedDataLength;
      this.finish(event.requestId, transfer);
    });
    cdp.on('Network.loadingFailed', (event) => {
      const transfer = this.inFlight.get(event.requestId);
      if (transfer) this.finish(event.requestId, transfer);
    });
  }

  private finish(requestId: string, transfer: Transfer): void {
    this.inFlight.delete(requestId);
    this.done.push(transfer);
    this.lastActivity = performance.now();
  }

  /** Waits until nothing has been in flight for QUIET_MS, then hands over what finished since the last call. */
  async settle(): Promise<Transfer[]> {
    await waitFor(
      'the network to go quiet',
      () => this.inFlight.size === 0 && performance.now() - this.lastActivity >= QUIET_MS,
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    const finished = this.done;
    this.done = [];
    return finished;
  }
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const sum = (transfers: Transfer[], key: 'encoded' | 'decoded'): number =>
  transfers.reduce((total, transfer) => total + transfer[key], 0);

/**
 * The URL paths of the scripts the browser needs before the dashboard shows: the entry, the login page,
 * the shell and the dashboard with their static imports, from the build's manifest. The rest of the first
 * route is what the dashboard loads once rendered (its chart, through defineAsyncComponent). Undefined
 * for a build without a manifest.
 */
function firstRouteFiles(): Set<string> | undefined {
  const path = join(repoRoot, 'apps/console/dist/.vite/manifest.json');
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<
    string,
    { file: string; isEntry?: boolean; imports?: string[] }
  >;
  const entry = Object.keys(manifest).find((key) => manifest[key]?.isEntry);
  const pending = [
    entry ?? '',
    'src/views/LoginView.vue',
    'src/components/AppShell.vue',
    'src/views/DashboardView.vue',
  ];
  const files = new Set<string>();
  const seen = new Set<string>();
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    const chunk = manifest[key];
    if (seen.has(key) || !chunk) continue;
    seen.add(key);
    files.add(`/${chunk.file}`);
    pending.push(...(chunk.imports ?? []));
  }
  return files;
}

/** One walk through the console in a fresh browser context: login, dashboard, then each route. */
async function walk(page: Page, cdp: CDPSession, url: string, password: string, deviceId: string) {
  const log = new NetworkLog(cdp);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const steps: StepFigures[] = [];
  const step = async (name: string, action: () => Promise<void>) => {
    const started = performance.now();
    await action();
    const scripts = (await log.settle()).filter((transfer) => transfer.type === 'Script');
    steps.push({ name, ms: performance.now() - started - QUIET_MS, scripts });
  };
  const click = (testId: string, path: RegExp) => async () => {
    await page.getByTestId(testId).click();
    await page.waitForURL((where) => path.test(where.pathname));
  };

  await step('login', async () => {
    await page.goto(`${url}/`);
    await page.getByTestId('login-username').waitFor();
  });
  await step('dashboard', async () => {
    await fillFields(page, { 'login-username': 'admin', 'login-password': password });
    await page.getByTestId('login-submit').click();
    await page.waitForURL((where) => where.pathname === '/');
    await page.getByTestId('usage-range').waitFor();
  });
  await step('devices', click('nav-devices', /^\/devices$/));
  await step('device', click(`device-row-${deviceId}`, /^\/devices\/./));
  await step('agents', click('nav-agents', /^\/agents$/));
  await step('agent-new', click('agent-create', /^\/agents\/new$/));
  await step('providers', click('nav-providers', /^\/providers$/));
  await step('releases', click('nav-releases', /^\/releases$/));
  await step('rollouts', click('nav-rollouts', /^\/rollouts$/));
  await step('audit', click('nav-audit', /^\/audit$/));
  await step('api-keys', click('nav-api-keys', /^\/api-keys$/));
  return steps;
}

function report(steps: StepFigures[], beforeShown: Set<string> | undefined): boolean {
  console.log('  step        JS files  transferred (KB)  decoded (KB)  encodings         time (ms)');
  let within = true;
  for (const [index, { name, ms, scripts }] of steps.entries()) {
    const encodings = [...new Set(scripts.map((script) => script.encoding))].join(',') || '-';
    const budget = index < 2 ? FIRST_ROUTE_BUDGET : LATER_ROUTE_BUDGET;
    if (index >= 2 && sum(scripts, 'encoded') > budget) within = false;
    console.log(
      `  ${name.padEnd(11)} ${String(scripts.length).padStart(8)}  ${kb(sum(scripts, 'encoded')).padStart(16)}` +
        `  ${kb(sum(scripts, 'decoded')).padStart(12)}  ${encodings.padEnd(16)}  ${ms.toFixed(0).padStart(9)}`,
    );
  }
  const first = steps.slice(0, 2).flatMap((figures) => figures.scripts);
  console.log(
    `  first route (login + dashboard, with its chart): ${kb(sum(first, 'encoded'))} KB transferred, ` +
      `${kb(sum(first, 'decoded'))} KB decoded, in ${first.length} files`,
  );
  if (beforeShown) {
    const before = first.filter((script) => beforeShown.has(new URL(script.url).pathname));
    if (sum(before, 'encoded') > FIRST_ROUTE_BUDGET) within = false;
    console.log(
      `  of which before the dashboard shows: ${kb(sum(before, 'encoded'))} KB transferred in ` +
        `${before.length} files (budget ${kb(FIRST_ROUTE_BUDGET)} KB); its chart after it: ` +
        `${kb(sum(first, 'encoded') - sum(before, 'encoded'))} KB`,
    );
  } else if (sum(first, 'encoded') > FIRST_ROUTE_BUDGET) {
    within = false;
  }
  const later = steps.slice(2).map((figures) => sum(figures.scripts, 'encoded'));
  console.log(`  largest later route: ${kb(Math.max(...later))} KB; budget ${kb(LATER_ROUTE_BUDGET)} KB`);
  return within;
}

async function main(dir: string): Promise<void> {
  console.log(`console delivery, machine: ${machine()}, ${RUNS} runs`);
  let fleet: FleetProcess | undefined;
  const url = EXTERNAL_URL ?? (fleet = await startFleet({ dataDir: join(dir, 'fleet') })).url;
  const password = fleet?.adminPassword ?? EXTERNAL_PASSWORD;
  const beforeShown = EXTERNAL_URL ? undefined : firstRouteFiles();
  const browser = await launchChromium();
  try {
    // A box, so that the device page (the one with charts) has something to show.
    const api = new FleetApi(url);
    await api.login('admin', password);
    const [box] = await provisionBoxes(url, await api.createClaimToken(), 1, {
      prefix: 'bench-console',
      concurrency: 1,
    });
    let within = true;
    for (let run = 1; run <= RUNS; run++) {
      const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      const steps = await walk(page, await context.newCDPSession(page), url, password, box!.deviceId);
      console.log(`run ${run}:`);
      within = report(steps, beforeShown) && within;
      await context.close();
    }
    console.log(within ? 'every route within its budget' : 'a route is over its budget');
  } finally {
    await browser.close();
    await fleet?.kill();
  }
}

runBench('console', main);
