import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible chat completions server for tests: it stands in for paid model APIs and speaks
 * the same wire format (JSON answers, SSE `chat.completion.chunk` streams, OpenAI error bodies,
 * Retry-After on 429), so clients are exercised through their real HTTP and stream parsing.
 */

export interface TestUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface TestToolCall {
  name: string;
  /** An object is sent as JSON; a string is sent as is (to test arguments that are not valid JSON). */
  arguments: unknown;
  /** Defaults to `call_<n>`. */
  id?: string;
}

interface Pacing {
  /** Wait before the status line is sent. */
  delayMs?: number;
  /** Wait between stream chunks. */
  chunkDelayMs?: number;
}

export type OpenAiTestBehaviour =
  | (Pacing & {
      kind: 'text';
      text: string;
      /** Counts to report instead of the computed ones. */
      usage?: Partial<TestUsage>;
      /** Finish reason when the text fits the request's max_tokens; cut at max_tokens words it is "length". */
      finishReason?: 'stop' | 'length' | 'content_filter';
    })
  | (Pacing & {
      kind: 'tool-calls';
      calls: TestToolCall[];
      /** Text streamed before the tool calls. */
      text?: string;
      usage?: Partial<TestUsage>;
    })
  /** HTTP 429 with Retry-After (whole seconds) and, when given, retry-after-ms. */
  | { kind: 'rate-limit'; retryAfterSec?: number; retryAfterMs?: number; message?: string }
  /** An HTTP error with an OpenAI error body; 500 unless told. */
  | { kind: 'error'; status?: number; message?: string; type?: string; code?: string | null }
  /**
   * Streams `text` but destroys the socket after `afterChunks` SSE chunks (the role chunk counts):
   * no finish reason, no usage, no [DONE]. A non-streaming request gets its socket destroyed unanswered.
   */
  | (Pacing & { kind: 'cut'; text: string; afterChunks: number });

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined for GET or a body that is not JSON). */
  body: ChatCompletionRequestBody | undefined;
  receivedAt: number;
  /** Set once the client went away before the answer was complete. */
  closedByClient: boolean;
}

/** The parts of a chat completions request body the server looks at; the rest is kept as sent. */
export interface ChatCompletionRequestBody {
  model?: string;
  messages?: Array<{ role: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  [key: string]: unknown;
}

export type OpenAiTestResponder = (request: RecordedRequest) => OpenAiTestBehaviour | undefined;

export interface OpenAiTestServerOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get a 401. */
  apiKey?: string;
  /** Listed by GET /v1/models. */
  models?: string[];
  port?: number;
  /** Answer when neither the queue nor the responder has one; a text answer "ok" unless told. */
  fallback?: OpenAiTestBehaviour;
  /**
   * `never` plays a provider that ignores `stream_options.include_usage` (some local servers): streams
   * then end without a usage chunk. `when-asked` (the default) is OpenAI's behaviour.
   */
  streamUsage?: 'when-asked' | 'never';
  /** Characters per tool-call argument fragment in streams. */
  argumentFragmentSize?: number;
}

export interface OpenAiTestServer {
  /** Base URL ending in /v1, as OpenAI clients expect. */
  url: string;
  port: number;
  /** Every request received, in order (chat completions and models). */
  requests: RecordedRequest[];
  /** Chat completion requests only. */
  readonly completionRequests: RecordedRequest[];
  /** Queues behaviours; each chat completion request takes the next one before asking the responder. */
  enqueue(...behaviours: OpenAiTestBehaviour[]): void;
  setResponder(responder: OpenAiTestResponder | undefined): void;
  close(): Promise<void>;
}

/** The token count the server reports for a text: whitespace-separated words. */
export function countTestTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : '',
      )
      .join(' ');
  }
  return '';
}

/**
 * The prompt tokens the server reports for a request: one per message plus the words of every
 * message's content and tool-call arguments. Tools offered are not counted.
 */
export function promptTestTokens(body: ChatCompletionRequestBody | undefined): number {
  let total = 0;
  for (const message of body?.messages ?? []) {
    total += 1 + countTestTokens(contentText(message.content));
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls as Array<{ function?: { arguments?: string } }>) {
        total += countTestTokens(call.function?.arguments ?? '');
      }
    }
  }
  return total;
}

/** The completion tokens the server reports: words of the text plus, per tool call, 1 + words of its arguments. */
export function completionTestTokens(text: string, calls: readonly TestToolCall[] = []): number {
  return (
    countTestTokens(text) +
    calls.reduce((sum, call) => sum + 1 + countTestTokens(argumentsText(call.arguments)), 0)
  );
}

function argumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args ?? {});
}

/**
 * A responder for agent loops: while tools are offered and no tool result is in the conversation,
 * it calls a tool (the named one, else the first offered) with `args`; afterwards it answers `answer`.
 */
export function toolLoopResponder(options: {
  args: unknown;
  answer: string;
  toolName?: string;
}): OpenAiTestResponder {
  return (request) => {
    const tools = request.body?.tools ?? [];
    const hasToolResult = (request.body?.messages ?? []).some((m) => m.role === 'tool');
    const tool = options.toolName ?? tools[0]?.function.name;
    if (tools.length > 0 && !hasToolResult && tool) {
      return { kind: 'tool-calls', calls: [{ name: tool, arguments: options.args }] };
    }
    return { kind: 'text', text: options.answer };
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function maskKey(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 3)}****${key.slice(-4)}`;
}

/** Splits text into stream pieces of one word each, keeping the whitespace that follows. */
function textPieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

export async function startOpenAiTestServer(
  options: OpenAiTestServerOptions = {},
): Promise<OpenAiTestServer> {
  const queue: OpenAiTestBehaviour[] = [];
  const requests: RecordedRequest[] = [];
  let responder: OpenAiTestResponder | undefined;
  const models = options.models ?? ['test-model'];
  const fragmentSize = options.argumentFragmentSize ?? 8;
  let callCounter = 0;
  const cutByServer = new WeakSet<ServerResponse>();
  const cut = (res: ServerResponse) => {
    cutByServer.add(res);
    res.destroy();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, errorBody(`test server failure: ${String(error)}`, 'server_error', null));
      } else {
        res.destroy();
      }
    });
  });

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const raw = await readBody(req);
    let body: ChatCompletionRequestBody | undefined;
    try {
      body = raw ? (JSON.parse(raw) as ChatCompletionRequestBody) : undefined;
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      receivedAt: Date.now(),
      closedByClient: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished && !cutByServer.has(res)) record.closedByClient = true;
    });

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      const given = req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
      const message = given
        ? `Incorrect API key provided: ${maskKey(given)}. You can find your API key at https://platform.openai.com/account/api-keys.`
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
      sendJson(res, 401, errorBody(message, 'invalid_request_error', given ? 'invalid_api_key' : null));
      return;
    }

    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({
          id,
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'agentbox-test',
        })),
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendJson(
        res,
        404,
        errorBody(`Invalid URL (${req.method} ${path})`, 'invalid_request_error', 'unknown_url'),
      );
      return;
    }
    if (!body || !Array.isArray(body.messages)) {
      sendJson(
        res,
        400,
        errorBody("'messages' is a required property", 'invalid_request_error', null, 'messages'),
      );
      return;
    }

    const behaviour = queue.shift() ??
      responder?.(record) ??
      options.fallback ?? { kind: 'text', text: 'ok' };
    await respond(behaviour, record, body, res);
  }

  async function respond(
    behaviour: OpenAiTestBehaviour,
    record: RecordedRequest,
    body: ChatCompletionRequestBody,
    res: ServerResponse,
  ): Promise<void> {
    switch (behaviour.kind) {
      case 'rate-limit': {
        const headers: Record<string, string> = {
          'retry-after': String(Math.ceil(behaviour.retryAfterSec ?? 1)),
        };
        if (behaviour.retryAfterMs !== undefined) headers['retry-after-ms'] = String(behaviour.retryAfterMs);
        sendJson(
          res,
          429,
          errorBody(
            behaviour.message ?? 'Rate limit reached for requests. Please try again later.',
            'requests',
            'rate_limit_exceeded',
          ),
          headers,
        );
        return;
      }
      case 'error': {
        const status = behaviour.status ?? 500;
        sendJson(
          res,
          status,
          errorBody(
            behaviour.message ?? 'The server had an error while processing your request. Sorry about that!',
            behaviour.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
            behaviour.code ?? null,
          ),
        );
        return;
      }
      case 'text':
      case 'tool-calls':
      case 'cut':
        await answer(behaviour, record, body, res);
        return;
    }
  }

  async function answer(
    behaviour: Extract<OpenAiTestBehaviour, { kind: 'text' | 'tool-calls' | 'cut' }>,
    record: RecordedRequest,
    body: ChatCompletionRequestBody,
    res: ServerResponse,
  ): Promise<void> {
    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (record.closedByClient || res.destroyed) return;

    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? models[0] ?? 'test-model';
    // Like real models, a text answer stops at the request's output limit (here counted in words).
    const limit = body.max_completion_tokens ?? body.max_tokens;
    const pieces = textPieces(behaviour.text ?? '');
    const truncated = behaviour.kind === 'text' && typeof limit === 'number' && pieces.length > limit;
    const text = truncated ? pieces.slice(0, limit).join('') : (behaviour.text ?? '');
    const calls = (behaviour.kind === 'tool-calls' ? behaviour.calls : []).map((call) => ({
      id: call.id ?? `call_${++callCounter}`,
      name: call.name,
      arguments: argumentsText(call.arguments),
    }));
    const finishReason =
      behaviour.kind === 'tool-calls'
        ? 'tool_calls'
        : behaviour.kind === 'text'
          ? truncated
            ? 'length'
            : (behaviour.finishReason ?? 'stop')
          : 'stop';
    const overrides = behaviour.kind === 'cut' ? undefined : behaviour.usage;
    const promptTokens = overrides?.promptTokens ?? promptTestTokens(record.body);
    const completionTokens =
      overrides?.completionTokens ??
      completionTestTokens(
        text,
        calls.map((c) => ({ name: c.name, arguments: c.arguments })),
      );
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };

    if (!body.stream) {
      if (behaviour.kind === 'cut') {
        cut(res);
        return;
      }
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: calls.length > 0 && !text ? null : text,
              ...(calls.length > 0
                ? {
                    tool_calls: calls.map((c) => ({
                      id: c.id,
                      type: 'function',
                      function: { name: c.name, arguments: c.arguments },
                    })),
                  }
                : {}),
            },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
      });
      return;
    }

    const includeUsage = body.stream_options?.include_usage === true && options.streamUsage !== 'never';
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_agentbox_test',
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
    const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
      index: 0,
      delta: d,
      logprobs: null,
      finish_reason: finish,
    });

    const events: unknown[] = [chunk([delta({ role: 'assistant', content: '' })])];
    for (const piece of textPieces(text)) events.push(chunk([delta({ content: piece })]));
    calls.forEach((call, index) => {
      events.push(
        chunk([
          delta({
            tool_calls: [
              { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
            ],
          }),
        ]),
      );
      for (let at = 0; at < call.arguments.length; at += fragmentSize) {
        events.push(
          chunk([
            delta({
              tool_calls: [{ index, function: { arguments: call.arguments.slice(at, at + fragmentSize) } }],
            }),
          ]),
        );
      }
    });
    events.push(chunk([delta({}, finishReason)]));
    if (includeUsage) events.push(chunk([], { usage }));

    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();

    let sent = 0;
    for (const event of events) {
      if (behaviour.kind === 'cut' && sent >= behaviour.afterChunks) {
        cut(res);
        return;
      }
      if (sent > 0 && behaviour.chunkDelayMs) await sleep(behaviour.chunkDelayMs);
      if (record.closedByClient || res.destroyed) return;
      // Waiting for each write to flush keeps a cut honest: the chunks before it do reach the client.
      await new Promise<void>((resolve) => res.write(`data: ${JSON.stringify(event)}\n\n`, () => resolve()));
      sent += 1;
    }
    if (behaviour.kind === 'cut') {
      cut(res);
      return;
    }
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    get completionRequests() {
      return requests.filter((r) => r.path === '/v1/chat/completions');
    },
    enqueue: (...behaviours) => {
      queue.push(...behaviours);
    },
    setResponder: (next) => {
      responder = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
