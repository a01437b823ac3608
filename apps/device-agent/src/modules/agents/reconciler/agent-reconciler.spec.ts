import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import { AgentDefinitionSchema, type DesiredAgent } from '@agentbox/schemas';
import { sealSecret } from '@agentbox/sealed-secret';
import type { InstalledAgent } from '../agents.contracts.js';
import { BoxProviderDirectory } from '../providers/provider-directory.js';
import { BoxSecretsKey } from '../secrets/box-secrets-key.js';
import { openAgentStores, type AgentStores } from '../store/agent-stores.js';
import { AgentReconciler, reconcileBackoffMs, type AgentRuntimePort } from './agent-reconciler.js';

const agent = (id: string, version: number, provider = 'deepseek'): DesiredAgent => ({
  id,
  version,
  definition: AgentDefinitionSchema.parse({
    name: id,
    instructions: 'Watch the logs.',
    model: { provider, model: 'deepseek-chat' },
  }),
});

/** The runtime side as the reconciler sees it; refuses agents listed in `refuse`. */
class RecordingRuntime implements AgentRuntimePort {
  readonly running = new Map<string, InstalledAgent>();
  readonly calls: string[] = [];
  readonly refuse = new Set<string>();
  upsert(agent: InstalledAgent): Promise<void> {
    this.calls.push(`upsert ${agent.id}@${agent.version}`);
    if (this.refuse.has(agent.id)) return Promise.reject(new Error(`cannot start ${agent.id}`));
    this.running.set(agent.id, agent);
    return Promise.resolve();
  }
  remove(agentId: string): void {
    this.calls.push(`remove ${agentId}`);
    this.running.delete(agentId);
  }
}

const quietLogger = { log: () => undefined, warn: () => undefined };

describe('AgentReconciler', () => {
  const dir = useTempDir('agentbox-reconcile-');
  let stores: AgentStores;
  let key: BoxSecretsKey;
  let sut: AgentReconciler | undefined;

  beforeEach(async () => {
    stores = openAgentStores(dir.path);
    key = await BoxSecretsKey.loadOrCreate(dir.path);
  });

  afterEach(async () => {
    await sut?.stop();
    sut = undefined;
    stores.close();
  });

  function build(runtime: AgentRuntimePort, directory = new BoxProviderDirectory(), backoffBaseMs = 20) {
    sut = new AgentReconciler(runtime, stores.installed, directory, (s) => key.open(s), quietLogger, {
      backoffBaseMs,
      backoffCapMs: 200,
      stuckAfterMs: 150,
    });
    return sut;
  }

  it('installs, updates and removes agents one step at a time and persists what it installed', async () => {
    const runtime = new RecordingRuntime();
    const reconciler = build(runtime);
    await reconciler.start();
    reconciler.setTarget({ agents: [agent('a', 1), agent('b', 1)] });
    await reconciler.idle();
    expect([...runtime.running.keys()].sort()).toEqual(['a', 'b']);
    expect(stores.installed.list().map((row) => `${row.agent.id}@${row.agent.version}`)).toEqual([
      'a@1',
      'b@1',
    ]);

    reconciler.setTarget({ agents: [agent('b', 2)] });
    await reconciler.idle();
    expect(runtime.calls.slice(-2)).toEqual(['remove a', 'upsert b@2']);
    expect(stores.installed.list().map((row) => `${row.agent.id}@${row.agent.version}`)).toEqual(['b@2']);

    // Absent spec.agents leaves them alone; an empty list removes them all.
    reconciler.setTarget({});
    await reconciler.idle();
    expect(runtime.running.size).toBe(1);
    reconciler.setTarget({ agents: [] });
    await reconciler.idle();
    expect(runtime.running.size).toBe(0);
    expect(stores.installed.list()).toEqual([]);
  });

  it('starts the installed agents at start, before any desired state arrives', async () => {
    stores.installed.put(agent('kept', 3));
    const runtime = new RecordingRuntime();
    await build(runtime).start();
    expect(runtime.calls).toEqual(['upsert kept@3']);
    expect(sut!.installedAgents().map((a) => a.id)).toEqual(['kept']);
  });

  it('backs off on a failing step, lets the other steps through, is stuck after a while, and recovers', async () => {
    const runtime = new RecordingRuntime();
    runtime.refuse.add('bad');
    const reconciler = build(runtime);
    await reconciler.start();
    reconciler.setTarget({ agents: [agent('bad', 1), agent('good', 1)] });
    await expect.poll(() => runtime.running.has('good'), { timeout: 2_000 }).toBe(true);
    await expect.poll(() => reconciler.stuckFor(), { timeout: 2_000 }).toBeGreaterThan(150);
    expect(reconciler.isHealthy()).toBe(false);
    const failure = [...reconciler.failures().values()][0]!;
    expect(failure.description).toBe('install agent bad v1');
    expect(failure.message).toBe('cannot start bad');
    expect(failure.failures).toBeGreaterThanOrEqual(3);
    // Attempts get further apart: 20, 40, 80, 160, 200 (cap), ...
    const attempts = runtime.calls.filter((call) => call === 'upsert bad@1').length;
    expect(attempts).toBeLessThan(10);

    runtime.refuse.delete('bad');
    await expect.poll(() => runtime.running.has('bad'), { timeout: 2_000 }).toBe(true);
    await reconciler.idle();
    expect(reconciler.stuckFor()).toBe(0);
    expect(reconciler.isHealthy()).toBe(true);
    expect(reconciler.failures().size).toBe(0);
  });

  it('opens provider keys with the box key; a key sealed to another box is a reported problem, not a retry', async () => {
    const directory = new BoxProviderDirectory();
    const reconciler = build(new RecordingRuntime(), directory);
    await reconciler.start();
    const otherDir = await mkdtemp(join(tmpdir(), 'agentbox-reconcile-other-'));
    const other = await BoxSecretsKey.loadOrCreate(otherDir);
    await rm(otherDir, { recursive: true, force: true });
    reconciler.setTarget({
      providers: [
        {
          id: 'deepseek',
          version: 1,
          baseUrl: 'https://api.deepseek.com/v1',
          apiKey: sealSecret('sk-good', key.publicKey),
        },
        {
          id: 'qwen',
          version: 2,
          baseUrl: 'https://dashscope.example/v1',
          apiKey: sealSecret('sk-x', other.publicKey),
        },
        { id: 'ollama', version: 1, baseUrl: 'http://127.0.0.1:11434/v1' },
      ],
    });
    await reconciler.idle();
    expect(directory.get('deepseek')).toEqual({
      id: 'deepseek',
      version: 1,
      baseUrl: 'https://api.deepseek.com/v1',
      apiKey: 'sk-good',
    });
    expect(directory.get('ollama')).toEqual({
      id: 'ollama',
      version: 1,
      baseUrl: 'http://127.0.0.1:11434/v1',
    });
    expect(directory.get('qwen')).toBeUndefined();
    expect(directory.problem('qwen')).toMatch(/qwen v2: its API key could not be opened/);
    expect(reconciler.failures().size).toBe(0);

    // Sealed again to this box: the problem goes away.
    reconciler.setTarget({
      providers: [
        {
          id: 'qwen',
          version: 3,
          baseUrl: 'https://dashscope.example/v1',
          apiKey: sealSecret('sk-q', key.publicKey),
        },
      ],
    });
    await reconciler.idle();
    expect(directory.get('qwen')?.apiKey).toBe('sk-q');
    expect(directory.problem('qwen')).toBeUndefined();
    expect(directory.get('deepseek')).toBeUndefined(); // no longer in the document
  });

  it('computes the backoff as min(2^n * 500 ms, cap)', () => {
    expect([1, 2, 3, 4, 8, 20].map((n) => reconcileBackoffMs(n, 500, 30_000))).toEqual([
      500, 1_000, 2_000, 4_000, 30_000, 30_000,
    ]);
  });
});
