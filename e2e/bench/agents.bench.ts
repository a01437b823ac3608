// Agent runtime benchmark: a real fleet-service process and a real device agent, with the
// OpenAI-compatible test server answering instantly in place of a paid model API. Prints
// - the device agent's resident memory with 0, 10 and 50 agents defined and idle, against a bare Node process;
// - scheduler overhead (webhook trigger to the run's first model request), median and p99, against a bare
//   Node child forked until it is ready, then the same request from a warm process;
// - runs per second through the gateway, against the raw model server driven directly.
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freePort, sleep, startOpenAiTestServer, waitFor } from '@agentbox/test-support';
import { Platform } from '../support/platform.js';

const SCHEDULER_RUNS = Number(process.env.BENCH_SCHEDULER_RUNS ?? 100);
const THROUGHPUT_RUNS = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 200);
const THROUGHPUT_AGENTS = 10;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The process and its children, median of several samples a second apart. */
async function residentBytes(pid: number, samples = 5): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    values.push(rssOf(pid) + childrenOf(pid).reduce((sum, child) => sum + rssOf(child), 0));
    await sleep(1_000);
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const model = await startOpenAiTestServer({ fallback: { kind: 'text', text: 'ok' } });
  const platform = new Platform();
  await platform.start();
  const webhookPort = await freePort();
  const box = platform.startAgent('bench-box', await platform.api.createClaimToken(), {
    AGENTBOX_WEBHOOK_PORT: String(webhookPort),
    AGENTBOX_TELEMETRY_INTERVAL_SEC: '5',
    AGENTBOX_LOG_LEVEL: 'warn',
  });
  const device = await platform.waitForDevice((d) => d.name === 'bench-box' && d.online, 'bench box online');
  const api = platform.api;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await api.request(method, path, body);
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const installed = async (count: number) =>
    waitFor(
      `${count} agents installed on the box`,
      async () => {
        const agents = (await call('GET', `/api/v1/devices/${device.id}/agents`)) as unknown as Array<{
          reported: unknown;
        }>;
        return agents.filter((agent) => agent.reported).length >= count;
      },
      { timeoutMs: 120_000 },
    );
  await call('POST', '/api/v1/providers', { id: 'bench', name: 'Bench model', baseUrl: model.url });
  const define = async (id: string, extra: Record<string, unknown> = {}) => {
    await call('POST', '/api/v1/agents', {
      id,
      definition: {
        name: id,
        instructions: 'Answer in one word.',
        model: { provider: 'bench', model: 'test-model' },
        triggers: [{ type: 'message' }, { type: 'webhook' }],
        ...extra,
      },
    });
    await call('POST', '/api/v1/assignments', {
      agentId: id,
      target: { type: 'device', deviceId: device.id },
    });
  };

  // ------------------------------------------------------------ resident memory
  // execArgv: [] so the children do not inherit this script's TypeScript loader.
  const bare = fork('-e', ['setInterval(() => {}, 1000)'], { stdio: 'ignore', execArgv: [] });
  await sleep(2_000);
  const bareRss = await residentBytes(bare.pid!, 3);
  bare.kill();
  // Start-up garbage settles within a few collections; sample once the box has been idle for a while.
  await sleep(15_000);
  const memory: Record<number, number> = { 0: await residentBytes(box.child.pid!) };
  let defined = 0;
  for (const target of [10, 50]) {
    for (; defined < target; defined += 1) await define(`idle-${defined}`);
    await installed(target);
    await sleep(15_000);
    memory[target] = await residentBytes(box.child.pid!);
  }

  // ------------------------------------------------------------ scheduler overhead
  await define('bench');
  await installed(defined + 1);
  const webhook = `http://127.0.0.1:${webhookPort}/agents`;
  const trigger = async (agentId: string) => {
    const response = await fetch(`${webhook}/${agentId}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'go' }),
    });
    if (response.status !== 202)
      throw new Error(`webhook ${agentId}: ${response.status} ${await response.text()}`);
  };
  const overheads: number[] = [];
  for (let i = 0; i < SCHEDULER_RUNS; i += 1) {
    const before = model.completionRequests.length;
    const startedAt = Date.now();
    await trigger('bench');
    await waitFor('model request', () => model.completionRequests.length > before, { intervalMs: 2 });
    overheads.push(model.completionRequests[before]!.receivedAt - startedAt);
    await sleep(50);
  }
  // Baseline: the least a process per run costs: fork a bare Node child that says it is ready over IPC,
  // then make the same model request from this (warm) process.
  const forkOverheads: number[] = [];
  for (let i = 0; i < 30; i += 1) {
    const before = model.completionRequests.length;
    const startedAt = Date.now();
    const child = fork('-e', ['process.send("ready", () => process.disconnect())'], {
      stdio: 'ignore',
      execArgv: [],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => child.once('message', resolve));
    const response = await fetch(`${model.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: 'go' }] }),
    });
    await response.text();
    forkOverheads.push(model.completionRequests[before]!.receivedAt - startedAt);
    await exited;
  }

  // ------------------------------------------------------------ runs per second
  for (let i = 0; i < THROUGHPUT_AGENTS; i += 1) {
    await define(`tp-${i}`, { concurrency: { onBusy: 'enqueue', queueSize: 1_000 } });
  }
  await installed(defined + 1 + THROUGHPUT_AGENTS);
  const db = new Database(join(platform.stateDir('bench-box'), 'agents.db'), { readonly: true });
  const succeeded = db.prepare<[], { n: number }>(
    "SELECT count(*) AS n FROM runs WHERE agent_id LIKE 'tp-%' AND status = 'succeeded'",
  );
  const throughputStart = performance.now();
  for (let i = 0; i < THROUGHPUT_RUNS; i += 1) await trigger(`tp-${i % THROUGHPUT_AGENTS}`);
  await waitFor('every run succeeded', () => succeeded.get()!.n >= THROUGHPUT_RUNS, {
    timeoutMs: 300_000,
    intervalMs: 20,
  });
  const runsPerSec = THROUGHPUT_RUNS / ((performance.now() - throughputStart) / 1000);
  db.close();
  // Baseline: the model server driven directly with the same concurrency (streamed, usage included).
  const rawStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: THROUGHPUT_AGENTS }, async () => {
      while (next < THROUGHPUT_RUNS) {
        next += 1;
        const response = await fetch(`${model.url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'test-model',
            stream: true,
            stream_options: { include_usage: true },
            messages: [{ role: 'user', content: 'go' }],
          }),
        });
        await response.text();
      }
    }),
  );
  const rawPerSec = THROUGHPUT_RUNS / ((performance.now() - rawStart) / 1000);

  await platform.stop();
  await model.close();

  const results = {
    machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    memoryMb: {
      bareNode: Number(mb(bareRss)),
      0: Number(mb(memory[0]!)),
      10: Number(mb(memory[10]!)),
      50: Number(mb(memory[50]!)),
    },
    schedulerMs: {
      median: percentile(overheads, 50),
      p99: percentile(overheads, 99),
      bareForkMedian: percentile(forkOverheads, 50),
      bareForkP99: percentile(forkOverheads, 99),
    },
    runsPerSec: Number(runsPerSec.toFixed(1)),
    rawModelServerPerSec: Number(rawPerSec.toFixed(1)),
  };
  console.log(`machine: ${results.machine}`);
  console.log(
    `device agent resident memory: ${results.memoryMb[0]} MB with 0 agents, ${results.memoryMb[10]} MB with 10, ${results.memoryMb[50]} MB with 50 (bare node process: ${results.memoryMb.bareNode} MB)`,
  );
  console.log(
    `scheduler overhead, webhook to first model request: median ${results.schedulerMs.median} ms, p99 ${results.schedulerMs.p99} ms over ${SCHEDULER_RUNS} runs (bare fork to ready + a warm request: median ${results.schedulerMs.bareForkMedian} ms, p99 ${results.schedulerMs.bareForkP99} ms; ratio ${(results.schedulerMs.median / results.schedulerMs.bareForkMedian).toFixed(2)})`,
  );
  console.log(
    `runs per second through the gateway: ${results.runsPerSec} (${THROUGHPUT_RUNS} runs over ${THROUGHPUT_AGENTS} agents); raw model server: ${results.rawModelServerPerSec} req/s (ratio ${(results.runsPerSec / results.rawModelServerPerSec).toFixed(3)})`,
  );
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
