import { join } from 'node:path';
import { UsageRecordSchema, type UsageRecord } from '@agentbox/schemas';
import {
  freePort,
  promptTestTokens,
  startOpenAiTestServer,
  toolLoopResponder,
  type OpenAiTestServer,
} from '@agentbox/test-support';
import Database from 'better-sqlite3';
import { countTokens } from 'gpt-tokenizer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '@agentbox/test-support/vitest';
import {
  ModelGatewayError,
  type ModelCallRequest,
  type ResolvedProvider,
  type ToolSpec,
} from '../agents.contracts.js';
import { BudgetLedger, nextUtcMidnight } from './budget-ledger.js';
import { ModelGateway, type ModelGatewayOptions } from './model-gateway.js';
import { estimatePromptTokens, reservationPromptTokens } from './token-estimate.js';

const KEY = 'sk-test-7f3a9c1e5b2d4680';

const weatherTool: ToolSpec = {
  name: 'http.fetch',
  description: 'Fetches a URL',
  inputSchema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
};

describe('ModelGateway', () => {
  let server: OpenAiTestServer;
  const dir = useTempDir('model-gateway-');
  let db: Database.Database;
  let ledger: BudgetLedger;
  let providers: Map<string, ResolvedProvider>;
  let usage: UsageRecord[];
  let warnings: string[];
  let sut: ModelGateway;

  const gateway = (options: Partial<ModelGatewayOptions> = {}) =>
    new ModelGateway({
      providers: { get: (id) => providers.get(id) },
      ledger,
      onUsage: (record) => usage.push(record),
      retry: { maxRetries: 2, baseDelayMs: 10, maxDelayMs: 5_000 },
      logger: { warn: (message) => warnings.push(message) },
      ...options,
    });

  const request = (overrides: Partial<ModelCallRequest> = {}): ModelCallRequest => ({
    agentId: 'weather',
    runId: 'run-00000001',
    models: [{ provider: 'p1', model: 'm1' }],
    system: 'You are terse.',
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: [],
    maxOutputTokens: 200,
    budget: { tokensPerDay: 100_000, tokensPerRun: 10_000 },
    ...overrides,
  });

  const failure = async (promise: Promise<unknown>): Promise<ModelGatewayError> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelGatewayError);
    return error as ModelGatewayError;
  };

  const total = (records: UsageRecord[]) =>
    records.reduce((sum, r) => sum + r.inputTokens + r.outputTokens, 0);

  beforeEach(async () => {
    server = await startOpenAiTestServer({ apiKey: KEY });
    db = new Database(join(dir.path, 'agents.db'));
    ledger = new BudgetLedger(db);
    providers = new Map([['p1', { id: 'p1', version: 1, baseUrl: server.url, apiKey: KEY }]]);
    usage = [];
    warnings = [];
    sut = gateway();
  });

  afterEach(async () => {
    await server.close();
    db.close();
  });

  it('answers with the usage of the final stream chunk and records it once', async () => {
    server.enqueue({ kind: 'text', text: 'Sunny and mild.' });

    const result = await sut.call(request());

    const sent = server.completionRequests[0]!;
    const inputTokens = promptTestTokens(sent.body);
    expect(result).toMatchObject({
      provider: 'p1',
      model: 'm1',
      text: 'Sunny and mild.',
      toolCalls: [],
      finishReason: 'stop',
      inputTokens,
      outputTokens: 3,
      estimated: false,
    });
    expect(sent.body).toMatchObject({
      model: 'm1',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 200,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is the weather in Paris?' },
      ],
    });
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(usage).toHaveLength(1);
    expect(UsageRecordSchema.parse(usage[0])).toMatchObject({
      agentId: 'weather',
      runId: 'run-00000001',
      provider: 'p1',
      model: 'm1',
      inputTokens,
      outputTokens: 3,
      estimated: false,
      outcome: 'ok',
    });
    expect(ledger.usedByRun('run-00000001')).toBe(inputTokens + 3);
    expect(ledger.usedToday('weather')).toBe(inputTokens + 3);
  });

  it('returns tool calls under their own names and sends tool results back in OpenAI form', async () => {
    server.setResponder(toolLoopResponder({ args: { url: 'https://wttr.in/Paris' }, answer: 'Sunny.' }));

    const first = await sut.call(request({ tools: [weatherTool] }));

    expect(first.finishReason).toBe('tool-calls');
    expect(first.toolCalls).toEqual([
      { id: expect.any(String), name: 'http.fetch', input: { url: 'https://wttr.in/Paris' } },
    ]);
    expect(server.completionRequests[0]!.body!.tools).toEqual([
      {
        type: 'function',
        function: { name: 'http_fetch', description: 'Fetches a URL', parameters: weatherTool.inputSchema },
      },
    ]);

    const call = first.toolCalls[0]!;
    const second = await sut.call(
      request({
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          { role: 'assistant', content: '', toolCalls: [call] },
          { role: 'tool', toolCallId: call.id, toolName: call.name, content: '18 °C, sunny' },
        ],
      }),
    );

    expect(second.text).toBe('Sunny.');
    expect(second.toolCalls).toEqual([]);
    expect(server.completionRequests[1]!.body!.messages!.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: call.id,
            type: 'function',
            function: { name: 'http_fetch', arguments: '{"url":"https://wttr.in/Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: call.id, content: '18 °C, sunny' },
    ]);
    expect(usage.map((r) => r.outcome)).toEqual(['ok', 'ok']);
  });

  it('passes tool arguments that are not JSON through as their raw text, for the tool host to refuse', async () => {
    server.enqueue({ kind: 'tool-calls', calls: [{ name: 'http_fetch', arguments: '{"url": ' }] });

    const result = await sut.call(request({ tools: [weatherTool] }));

    expect(result.toolCalls).toEqual([{ id: expect.any(String), name: 'http.fetch', input: '{"url": ' }]);
  });

  it('estimates the usage of a provider that sends none', async () => {
    const quiet = await startOpenAiTestServer({ streamUsage: 'never' });
    providers.set('quiet', { id: 'quiet', version: 1, baseUrl: quiet.url });
    quiet.enqueue({ kind: 'text', text: 'Sunny and mild.' });
    try {
      const result = await sut.call(request({ models: [{ provider: 'quiet', model: 'llama' }] }));

      const expected = {
        inputTokens: await estimatePromptTokens(request()),
        outputTokens: countTokens('Sunny and mild.'),
        estimated: true,
      };
      expect(result).toMatchObject({ text: 'Sunny and mild.', ...expected });
      expect(usage).toEqual([expect.objectContaining({ ...expected, outcome: 'ok', provider: 'quiet' })]);
      // no key configured: none is sent
      expect(quiet.completionRequests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await quiet.close();
    }
  });

  it('waits as long as Retry-After asks after a 429, then succeeds', async () => {
    server.enqueue({ kind: 'rate-limit', retryAfterSec: 1 }, { kind: 'text', text: 'Sunny.' });

    const result = await sut.call(request());

    expect(result.text).toBe('Sunny.');
    const [limited, retried] = server.completionRequests;
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(usage).toHaveLength(1);
    expect(usage[0]!.outcome).toBe('ok');
  });

  it('caps a long Retry-After at maxDelayMs', async () => {
    sut = gateway({ retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 200 } });
    server.enqueue({ kind: 'rate-limit', retryAfterSec: 60 }, { kind: 'text', text: 'Sunny.' });

    const started = Date.now();
    await sut.call(request());

    expect(Date.now() - started).toBeLessThan(5_000);
    const [limited, retried] = server.completionRequests;
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(190);
  });

  it('retries a 500, then moves on to the fallback model', async () => {
    sut = gateway({ retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 1_000 } });
    server.setResponder((req) =>
      req.body?.model === 'm1'
        ? { kind: 'error', status: 500 }
        : { kind: 'text', text: 'From the fallback.' },
    );

    const result = await sut.call(
      request({
        models: [
          { provider: 'p1', model: 'm1' },
          { provider: 'p1', model: 'm2' },
        ],
      }),
    );

    expect(server.completionRequests.map((r) => r.body!.model)).toEqual(['m1', 'm1', 'm2']);
    expect(result).toMatchObject({ model: 'm2', text: 'From the fallback.' });
    expect(usage.map((r) => [r.model, r.outcome])).toEqual([['m2', 'ok']]);
    expect(warnings.some((w) => w.includes('HTTP 500'))).toBe(true);
  });

  it('retries a provider that cannot be reached, then falls back to another provider', async () => {
    sut = gateway({ retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 1_000 } });
    const closedPort = await freePort();
    providers.set('down', {
      id: 'down',
      version: 1,
      baseUrl: `http://127.0.0.1:${closedPort}/v1`,
      apiKey: 'x',
    });
    server.enqueue({ kind: 'text', text: 'Sunny.' });

    const result = await sut.call(
      request({
        models: [
          { provider: 'down', model: 'm1' },
          { provider: 'p1', model: 'm1' },
        ],
      }),
    );

    expect(result).toMatchObject({ provider: 'p1', text: 'Sunny.' });
    expect(
      warnings.filter((w) => w.includes(`no answer from http://127.0.0.1:${closedPort}/v1`)),
    ).toHaveLength(1);
    expect(usage.map((r) => r.provider)).toEqual(['p1']);
  });

  it('fails with MODEL_FAILED naming every model when all fail, and holds no budget', async () => {
    server.setResponder(() => ({ kind: 'error', status: 503, message: 'overloaded' }));

    const error = await failure(
      sut.call(
        request({
          models: [
            { provider: 'p1', model: 'm1' },
            { provider: 'p1', model: 'm2' },
          ],
        }),
      ),
    );

    expect(error.code).toBe('MODEL_FAILED');
    expect(error.message).toMatch(/p1\/m1: HTTP 503: overloaded.*p1\/m2: HTTP 503: overloaded/);
    expect(server.completionRequests).toHaveLength(6);
    expect(usage).toEqual([]);
    // nothing is left reserved
    expect(
      ledger.reserve({ agentId: 'weather', runId: 'run-00000001', tokens: 10_000, budget: request().budget })
        .ok,
    ).toBe(true);
  });

  it('counts a cut stream once, estimated from the text received, then retries', async () => {
    server.enqueue(
      { kind: 'cut', text: 'Sunny and mild with a light breeze', afterChunks: 3 },
      { kind: 'text', text: 'Sunny.' },
    );

    const result = await sut.call(request());

    expect(result.text).toBe('Sunny.');
    expect(usage).toHaveLength(2);
    expect(usage[0]).toMatchObject({
      outcome: 'error',
      estimated: true,
      inputTokens: await estimatePromptTokens(request()),
      outputTokens: countTokens('Sunny and '),
    });
    expect(usage[1]).toMatchObject({ outcome: 'ok', estimated: false });
    expect(new Set(usage.map((r) => r.id)).size).toBe(2);
    expect(ledger.usedByRun('run-00000001')).toBe(total(usage));
    // The call costs both attempts, so a run's usage adds up to its usage records.
    expect(result.inputTokens + result.outputTokens).toBe(total(usage));
    expect(result.estimated).toBe(true);
  });

  it('fails a cut stream without retries with MODEL_FAILED, its usage recorded once', async () => {
    sut = gateway({ retry: { maxRetries: 0 } });
    server.enqueue({ kind: 'cut', text: 'Sunny and mild with a light breeze', afterChunks: 4 });

    const error = await failure(sut.call(request()));

    expect(error.code).toBe('MODEL_FAILED');
    expect(error.message).toContain('broke off');
    expect(error.spent).toEqual({ inputTokens: usage[0]!.inputTokens, outputTokens: usage[0]!.outputTokens });
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      outcome: 'error',
      estimated: true,
      outputTokens: countTokens('Sunny and mild '),
    });
  });

  it('aborts mid-stream with ABORTED and records the estimated usage', async () => {
    sut = gateway({ abortGraceMs: 0 });
    server.enqueue({
      kind: 'text',
      text: 'one two three four five six seven eight nine ten',
      chunkDelayMs: 100,
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 350);

    const error = await failure(sut.call(request(), controller.signal));

    expect(error.code).toBe('ABORTED');
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ outcome: 'aborted', estimated: true });
    expect(usage[0]!.outputTokens).toBeGreaterThan(0);
    expect(usage[0]!.outputTokens).toBeLessThan(10);
    await expect.poll(() => server.completionRequests[0]!.closedByClient).toBe(true);
    expect(server.completionRequests).toHaveLength(1);
  });

  it('reads an answer that arrives within the abort grace and meters it as the provider billed it', async () => {
    // The run is interrupted while the answer is on its way: the provider bills it all the same.
    server.enqueue({ kind: 'text', text: 'one two three four five six', chunkDelayMs: 60 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);

    const result = await sut.call(request(), controller.signal);

    expect(result.text).toBe('one two three four five six');
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ outcome: 'ok', estimated: false });
    expect(result.inputTokens + result.outputTokens).toBe(total(usage));
    expect(server.completionRequests[0]!.closedByClient).toBe(false);
  });

  it('cuts an answer that outlasts the abort grace: ABORTED, its tokens estimated and in the error', async () => {
    sut = gateway({ abortGraceMs: 300 });
    server.enqueue({ kind: 'text', text: 'word '.repeat(40).trim(), chunkDelayMs: 100 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);

    const started = Date.now();
    const error = await failure(sut.call(request(), controller.signal));

    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ outcome: 'aborted', estimated: true });
    expect(error.spent).toEqual({ inputTokens: usage[0]!.inputTokens, outputTokens: usage[0]!.outputTokens });
    await expect.poll(() => server.completionRequests[0]!.closedByClient).toBe(true);
  });

  it('aborts a slow response before it starts: ABORTED, no usage, budget released', async () => {
    sut = gateway({ abortGraceMs: 300 });
    server.enqueue({ kind: 'text', text: 'late', delayMs: 10_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    const started = Date.now();
    const error = await failure(sut.call(request(), controller.signal));

    expect(error.code).toBe('ABORTED');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(usage).toEqual([]);
    expect(
      ledger.reserve({ agentId: 'weather', runId: 'run-00000001', tokens: 10_000, budget: request().budget })
        .ok,
    ).toBe(true);
    await expect.poll(() => server.completionRequests[0]!.closedByClient).toBe(true);
  });

  it('refuses a call that would exceed the run budget before any request leaves', async () => {
    const prompt = reservationPromptTokens(request());
    const budget = { tokensPerDay: 100_000, tokensPerRun: prompt + 10 };

    const error = await failure(sut.call(request({ budget })));

    expect(error.code).toBe('BUDGET_EXHAUSTED');
    expect(error.detail).toEqual({ budget: 'run' });
    expect(server.requests).toEqual([]);
    expect(usage).toEqual([]);
  });

  it('shrinks the output limit to what the run budget has left', async () => {
    const prompt = reservationPromptTokens(request());
    server.enqueue({ kind: 'text', text: 'Sunny.' });

    await sut.call(request({ budget: { tokensPerDay: 100_000, tokensPerRun: prompt + 50 } }));

    expect(server.completionRequests[0]!.body!.max_tokens).toBe(50);
  });

  it('refuses on the day budget with the time it reopens', async () => {
    const prompt = reservationPromptTokens(request());

    const error = await failure(
      sut.call(request({ budget: { tokensPerDay: prompt, tokensPerRun: 10_000 } })),
    );

    expect(error.code).toBe('BUDGET_EXHAUSTED');
    expect(error.detail).toEqual({ budget: 'day', resetsAt: nextUtcMidnight(Date.now()) });
    expect(server.requests).toEqual([]);
  });

  it('never admits more than a small day budget holds, with 20 calls at once', async () => {
    server.setResponder(() => ({ kind: 'text', text: 'Sunny and mild.' }));
    const maxOutputTokens = 20;
    const perCall = reservationPromptTokens(request()) + maxOutputTokens;
    const budget = { tokensPerDay: 5 * perCall + 3, tokensPerRun: 10_000 };

    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        sut.call(request({ runId: `run-${String(i).padStart(8, '0')}`, maxOutputTokens, budget })),
      ),
    );

    const admitted = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ModelGatewayError] : []));
    expect(admitted).toHaveLength(5);
    expect(refused.map((e) => [e.code, e.detail?.budget])).toEqual(
      Array.from({ length: 15 }, () => ['BUDGET_EXHAUSTED', 'day']),
    );
    expect(server.completionRequests).toHaveLength(5);
    expect(usage).toHaveLength(5);
    expect(total(usage)).toBeLessThanOrEqual(budget.tokensPerDay);
    expect(ledger.usedToday('weather')).toBe(total(usage));
  });

  it('fails a wrong API key with MODEL_FAILED, says so, and never shows the key', async () => {
    const wrongKey = 'sk-wrong-2b8e61d0c4a9f7e3';
    providers.set('p1', { id: 'p1', version: 1, baseUrl: server.url, apiKey: wrongKey });

    const error = await failure(sut.call(request()));

    expect(error.code).toBe('MODEL_FAILED');
    expect(error.message).toContain('refused the API key of provider "p1"');
    expect(error.message).toContain('HTTP 401');
    expect(error.message).not.toContain(wrongKey);
    expect(JSON.stringify(warnings)).not.toContain(wrongKey);
    // a refused key is not retried
    expect(server.completionRequests).toHaveLength(1);
    expect(usage).toEqual([]);
  });

  it('fails with PROVIDER_UNAVAILABLE when no model has a provider on the box', async () => {
    const error = await failure(sut.call(request({ models: [{ provider: 'nope', model: 'm1' }] })));

    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.message).toContain('"nope"');
    expect(server.requests).toEqual([]);
  });
});
