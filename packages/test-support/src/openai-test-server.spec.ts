/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- wire bodies are checked field by field */
import { afterEach, describe, expect, it } from 'vitest';
import {
  completionTestTokens,
  promptTestTokens,
  startOpenAiTestServer,
  toolLoopResponder,
  type OpenAiTestServer,
} from './openai-test-server.js';

let sut: OpenAiTestServer | undefined;

afterEach(async () => {
  await sut?.close();
  sut = undefined;
});

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is the weather in Paris?' },
];

function post(server: OpenAiTestServer, body: unknown, init: RequestInit = {}) {
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    body: JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/** Reads an SSE body into its data payloads; `cut` tells whether the connection broke before the end. */
async function readSse(response: Response): Promise<{ data: string[]; cut: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let cut = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
    }
  } catch {
    cut = true;
  }
  const data = buffer
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
  return { data, cut };
}

const jsonOf = (response: Response): Promise<any> => response.json() as Promise<any>;

const parseChunks = (data: string[]): any[] => data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));

describe('startOpenAiTestServer', () => {
  it('answers a non-streaming request with a chat.completion and word-count usage', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue({ kind: 'text', text: 'Sunny and mild.' });

    const response = await post(sut, { model: 'm1', messages });
    const json = await jsonOf(response);

    expect(response.status).toBe(200);
    expect(json.object).toBe('chat.completion');
    expect(json.model).toBe('m1');
    expect(json.choices[0].message).toEqual({ role: 'assistant', content: 'Sunny and mild.' });
    expect(json.choices[0].finish_reason).toBe('stop');
    // 2 messages + 3 words + 6 words; 3 words answered
    expect(json.usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
    expect(sut.requests[0]!.body!.model).toBe('m1');
  });

  it('streams chunks and sends the usage chunk only when include_usage is asked for', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue({ kind: 'text', text: 'Sunny and mild.' }, { kind: 'text', text: 'Sunny and mild.' });

    const withUsage = await readSse(
      await post(sut, { model: 'm1', messages, stream: true, stream_options: { include_usage: true } }),
    );
    const chunks = parseChunks(withUsage.data);
    expect(withUsage.data.at(-1)).toBe('[DONE]');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Sunny and mild.');
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
    });

    const without = await readSse(await post(sut, { model: 'm1', messages, stream: true }));
    const plain = parseChunks(without.data);
    expect(without.data.at(-1)).toBe('[DONE]');
    expect(plain.some((c) => 'usage' in c)).toBe(false);
    expect(plain.at(-1).choices[0].finish_reason).toBe('stop');
  });

  it('can play a provider that ignores include_usage', async () => {
    sut = await startOpenAiTestServer({ streamUsage: 'never' });

    const { data } = await readSse(
      await post(sut, { model: 'm1', messages, stream: true, stream_options: { include_usage: true } }),
    );

    expect(data.at(-1)).toBe('[DONE]');
    expect(parseChunks(data).some((c) => 'usage' in c)).toBe(false);
  });

  it('streams tool calls as indexed deltas whose argument fragments join into the JSON', async () => {
    sut = await startOpenAiTestServer({ argumentFragmentSize: 5 });
    const args = { city: 'Paris', units: 'metric' };
    sut.enqueue({
      kind: 'tool-calls',
      calls: [
        { name: 'weather', arguments: args },
        { name: 'clock', arguments: {} },
      ],
    });

    const { data } = await readSse(
      await post(sut, { model: 'm1', messages, stream: true, stream_options: { include_usage: true } }),
    );
    const chunks = parseChunks(data);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const starts = deltas.filter((d: { id?: string }) => d.id);
    expect(
      starts.map((d: { index: number; function: { name: string } }) => [d.index, d.function.name]),
    ).toEqual([
      [0, 'weather'],
      [1, 'clock'],
    ]);
    const argsOf = (index: number) =>
      deltas
        .filter((d: { index: number }) => d.index === index)
        .map((d: { function: { arguments?: string } }) => d.function.arguments ?? '')
        .join('');
    expect(JSON.parse(argsOf(0))).toEqual(args);
    expect(JSON.parse(argsOf(1))).toEqual({});
    expect(deltas.filter((d: { index: number }) => d.index === 0).length).toBeGreaterThan(2);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1).usage.completion_tokens).toBe(
      completionTestTokens('', [
        { name: 'weather', arguments: args },
        { name: 'clock', arguments: {} },
      ]),
    );
  });

  it('stops a text answer at max_tokens words with finish_reason "length"', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue({ kind: 'text', text: 'one two three four five' });

    const json = await jsonOf(await post(sut, { model: 'm1', messages, max_tokens: 3 }));

    expect(json.choices[0].message.content).toBe('one two three ');
    expect(json.choices[0].finish_reason).toBe('length');
    expect(json.usage.completion_tokens).toBe(3);
  });

  it('answers 429 with Retry-After and 500 with an OpenAI error body', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue({ kind: 'rate-limit', retryAfterSec: 3, retryAfterMs: 2500 }, { kind: 'error' });

    const limited = await post(sut, { model: 'm1', messages });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(limited.headers.get('retry-after-ms')).toBe('2500');
    expect((await jsonOf(limited)).error.code).toBe('rate_limit_exceeded');

    const failed = await post(sut, { model: 'm1', messages });
    expect(failed.status).toBe(500);
    expect((await jsonOf(failed)).error).toMatchObject({ type: 'server_error', message: expect.any(String) });

    // the queue is used up: back to the default answer
    expect((await jsonOf(await post(sut, { model: 'm1', messages }))).choices[0].message.content).toBe('ok');
  });

  it('cuts a stream after the given number of chunks: no finish, no usage, no [DONE]', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue({ kind: 'cut', text: 'one two three four five six', afterChunks: 3 });

    const { data, cut } = await readSse(
      await post(sut, { model: 'm1', messages, stream: true, stream_options: { include_usage: true } }),
    );

    expect(cut).toBe(true);
    expect(data).toHaveLength(3);
    expect(data).not.toContain('[DONE]');
    const chunks = parseChunks(data);
    expect(chunks.map((c) => c.choices[0].delta.content).join('')).toBe('one two ');
    expect(chunks.every((c) => c.usage === null)).toBe(true);
    expect(sut.requests[0]!.closedByClient).toBe(false);
  });

  it('delays a slow answer and notices when the client gives up', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue(
      { kind: 'text', text: 'late', delayMs: 300 },
      { kind: 'text', text: 'never', delayMs: 5_000 },
    );

    const started = Date.now();
    await jsonOf(await post(sut, { model: 'm1', messages }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(post(sut, { model: 'm1', messages }, { signal: controller.signal })).rejects.toThrow();
    await expect.poll(() => sut!.requests[1]!.closedByClient).toBe(true);
  });

  it('paces stream chunks', async () => {
    sut = await startOpenAiTestServer();
    sut.enqueue({ kind: 'text', text: 'a b c d', chunkDelayMs: 50 });

    const started = Date.now();
    const { data } = await readSse(await post(sut, { model: 'm1', messages, stream: true }));

    // role chunk, 4 words, finish: 5 gaps
    expect(data).toHaveLength(7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('refuses a wrong API key with 401 without echoing the key whole', async () => {
    sut = await startOpenAiTestServer({ apiKey: 'sk-right-0000' });
    const wrongKey = 'sk-wrong-key-123456789';

    const refused = await post(
      sut,
      { model: 'm1', messages },
      { headers: { authorization: `Bearer ${wrongKey}` } },
    );
    const body = await jsonOf(refused);
    expect(refused.status).toBe(401);
    expect(body.error.code).toBe('invalid_api_key');
    expect(body.error.message).not.toContain(wrongKey);

    const accepted = await post(
      sut,
      { model: 'm1', messages },
      { headers: { authorization: 'Bearer sk-right-0000' } },
    );
    expect(accepted.status).toBe(200);
    expect(sut.requests[1]!.headers.authorization).toBe('Bearer sk-right-0000');
  });

  it('lets a responder script the answers, e.g. a tool loop', async () => {
    sut = await startOpenAiTestServer();
    sut.setResponder(toolLoopResponder({ args: { q: 'x' }, answer: 'done' }));
    const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];

    const first = await jsonOf(await post(sut, { model: 'm1', messages, tools }));
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    const call = first.choices[0].message.tool_calls[0];
    expect(call.function).toEqual({ name: 'search', arguments: '{"q":"x"}' });

    const followUp = [
      ...messages,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: 'result' },
    ];
    const second = await jsonOf(await post(sut, { model: 'm1', messages: followUp, tools }));
    expect(second.choices[0].message.content).toBe('done');
    expect(second.usage.prompt_tokens).toBe(promptTestTokens({ messages: followUp }));

    const withoutTools = await jsonOf(await post(sut, { model: 'm1', messages }));
    expect(withoutTools.choices[0].message.content).toBe('done');
  });

  it('lists models', async () => {
    sut = await startOpenAiTestServer({ models: ['a', 'b'] });

    const list = await jsonOf(await fetch(`${sut.url}/models`));

    expect(list.object).toBe('list');
    expect(list.data.map((m: { id: string }) => m.id)).toEqual(['a', 'b']);
  });
});
