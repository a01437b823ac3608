// @vitest-environment node
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveEvent } from '@agentbox/schemas';
import { EventSource as NodeEventSource } from 'eventsource';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '@agentbox/retry';
import {
  LIVE_EVENT_NAMES,
  LIVE_RECONNECT_BACKOFF,
  LiveStream,
  parseLiveEvent,
  type LiveConnectionState,
  type LiveStreamOptions,
} from './live-stream';

describe('parseLiveEvent', () => {
  it('accepts each documented event, with or without the type in the payload', () => {
    expect(parseLiveEvent('device.status', '{"deviceId":"a","online":true,"lastSeenAt":null}')).toEqual({
      ok: true,
      event: { type: 'device.status', deviceId: 'a', online: true, lastSeenAt: null },
    });
    expect(parseLiveEvent('device.updated', '{"type":"device.updated","deviceId":"a"}')).toMatchObject({
      ok: true,
    });
    expect(
      parseLiveEvent(
        'telemetry',
        JSON.stringify({ deviceId: 'a', samples: [{ ts: 1, values: { 'cpu.usage_pct': 3 } }] }),
      ),
    ).toMatchObject({ ok: true, event: { type: 'telemetry' } });
  });

  it('refuses malformed JSON, wrong shapes and a type that contradicts the event name', () => {
    expect(parseLiveEvent('device.status', '{nope')).toEqual({
      ok: false,
      reason: 'device.status: malformed JSON',
    });
    expect(parseLiveEvent('device.status', '[1]')).toMatchObject({ ok: false });
    expect(
      parseLiveEvent('device.status', '{"deviceId":"a","online":"yes","lastSeenAt":null}'),
    ).toMatchObject({
      ok: false,
      reason: expect.stringContaining('online') as string,
    });
    expect(
      parseLiveEvent('telemetry', '{"deviceId":"a","samples":[{"ts":1,"values":{"BAD NAME":1}}]}'),
    ).toMatchObject({ ok: false });
    expect(
      parseLiveEvent(
        'device.updated',
        '{"type":"device.status","deviceId":"a","online":true,"lastSeenAt":null}',
      ),
    ).toMatchObject({
      ok: false,
    });
  });
});

describe('reconnect backoff', () => {
  it('doubles from the base up to the cap', () => {
    const noJitter = () => 1;
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, LIVE_RECONNECT_BACKOFF, noJitter))).toEqual([
      500, 1000, 2000, 4000, 30_000,
    ]);
    expect(backoffDelay(2, LIVE_RECONNECT_BACKOFF, () => 0)).toBe(1600);
  });
});

/** A real SSE endpoint: each connection gets the events queued for it, the test can drop connections. */
class SseServer {
  connections: ServerResponse[] = [];
  tokens: string[] = [];
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.tokens.push(url.searchParams.get('ticket') ?? '');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(':ok\n\n');
      this.connections.push(res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  send(name: string, data: string): void {
    for (const res of this.connections) res.write(`event: ${name}\ndata: ${data}\n\n`);
  }

  dropAll(): void {
    for (const res of this.connections) res.destroy();
    this.connections = [];
  }

  async stop(): Promise<void> {
    this.dropAll();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LiveStream against a real SSE endpoint', () => {
  let server: SseServer;
  let base: string;
  let sut: LiveStream;
  let events: LiveEvent[];
  let invalid: string[];
  let states: LiveConnectionState[];
  let reconnected: number;
  let token: string | null;

  beforeEach(async () => {
    server = new SseServer();
    base = await server.start();
    events = [];
    invalid = [];
    states = [];
    reconnected = 0;
    token = 'ticket-1';
    const options: LiveStreamOptions = {
      // Asynchronous, like the console's: a ticket is fetched before every connect.
      url: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return token ? `${base}/api/v1/live?ticket=${token}` : null;
      },
      onEvent: (event) => events.push(event),
      onInvalid: (reason) => invalid.push(reason),
      onState: (state) => states.push(state),
      onReconnected: () => (reconnected += 1),
      createEventSource: (url) => new NodeEventSource(url),
      baseDelayMs: 20,
      maxDelayMs: 100,
    };
    sut = new LiveStream(options);
  });

  afterEach(async () => {
    sut.stop();
    await server.stop();
  });

  it('delivers valid events, reports invalid ones and keeps going', async () => {
    sut.start();
    await until(() => states.at(-1) === 'open');
    server.send('device.status', '{"deviceId":"a","online":true,"lastSeenAt":"2026-11-27T10:00:00.000Z"}');
    server.send('device.status', '{"deviceId":"a"}');
    server.send('device.updated', '{"deviceId":"b"}');
    await until(() => events.length === 2 && invalid.length === 1);
    expect(events.map((e) => e.type)).toEqual(['device.status', 'device.updated']);
    expect(reconnected).toBe(0);
  });

  it('reconnects after a drop with a fresh ticket and says it reconnected', async () => {
    sut.start();
    await until(() => states.at(-1) === 'open');
    token = 'ticket-2';
    server.dropAll();
    await until(() => reconnected === 1);
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('open');
    expect(server.tokens).toEqual(['ticket-1', 'ticket-2']);

    server.send('device.updated', '{"deviceId":"c"}');
    await until(() => events.length === 1);
  });

  it('stops for good when told, and does not open without a token', async () => {
    sut.start();
    await until(() => states.at(-1) === 'open');
    sut.stop();
    expect(states.at(-1)).toBe('idle');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.tokens).toHaveLength(1);

    token = null;
    states.length = 0;
    sut.start();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(states.filter((state) => state !== 'idle')).toEqual([]);
    expect(server.tokens).toHaveLength(1);
  });
});

describe('agent runtime live events', () => {
  it('accepts run, run.events, usage and device.agents events', () => {
    const run = {
      id: 'run-00000001',
      agentId: 'daily-report',
      agentVersion: 1,
      trigger: { type: 'message' },
      status: 'running',
      createdAt: 1,
      steps: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
    };
    for (const name of ['run', 'run.events', 'usage', 'device.agents'] as const)
      expect(LIVE_EVENT_NAMES).toContain(name);
    expect(parseLiveEvent('run', JSON.stringify({ deviceId: 'box-1', run })).ok).toBe(true);
    expect(parseLiveEvent('device.agents', JSON.stringify({ deviceId: 'box-1' })).ok).toBe(true);
    const badRun = parseLiveEvent(
      'run',
      JSON.stringify({ deviceId: 'box-1', run: { ...run, status: 'odd' } }),
    );
    expect(badRun.ok).toBe(false);
  });
});
