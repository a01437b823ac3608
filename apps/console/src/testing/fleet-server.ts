import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach } from 'vitest';
import { createApiClient, setApiClient } from '@/api/client';
import type { Device } from '@/api/types';
import { activeTestPinia } from './pinia';

/** `raw` is the body's bytes, for binary uploads that utf-8 decoding would mangle. */
export type Handler = (req: IncomingMessage, url: URL, body: string, raw: Buffer) => Promise<Reply> | Reply;
export interface Reply {
  status: number;
  body?: unknown;
  /** Sent as is (not JSON), e.g. a proxy's HTML error page. */
  raw?: string;
  /** Extra response headers; a `content-type` here replaces the default. */
  headers?: Record<string, string>;
}

/**
 * A real HTTP server on a free port standing in for the fleet service, with routes set per test.
 * Every request is recorded so tests can check what the console sent.
 */
export class FleetServer {
  readonly requests: { method: string; path: string; authorization?: string; body: string }[] = [];
  private readonly routes = new Map<string, Handler>();
  private server: Server | null = null;
  /** Where the server listens, once started. */
  baseUrl = '';

  route(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      body,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const handler = this.routes.get(`${req.method} ${url.pathname}`);
    const reply: Reply = handler
      ? await handler(req, url, body, raw)
      : { status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: `no route ${url.pathname}` } };
    if (reply.raw !== undefined) {
      res.writeHead(reply.status, { 'content-type': 'text/html', ...reply.headers }).end(reply.raw);
      return;
    }
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }
}

export function makeDevice(id: string, overrides: Partial<Device> = {}): Device {
  return {
    id,
    name: `box-${id}`,
    hardwareId: `hw-${id}-00000000`,
    tags: [],
    agentVersion: '0.1.0',
    hardware: {
      hostname: `host-${id}`,
      platform: 'linux',
      arch: 'x64',
      osRelease: '6.8.0',
      cpuModel: 'Test CPU',
      cpuCores: 4,
      memTotalBytes: 8 * 1024 ** 3,
    },
    online: false,
    lastSeenAt: null,
    connectedAt: null,
    capabilities: [],
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    metrics: ['cpu.usage_pct'],
    ...overrides,
  };
}

/**
 * The usual frame of a store test: before each test a fresh FleetServer with the routes `setup` adds,
 * the API client pointed at it and a fresh active Pinia (with the store plumbing when asked for); after
 * it, the server stops. `setup` also receives the server to keep, for tests that read its recorded
 * requests. Returns the current test's Pinia.
 */
export function useFleetServer(
  setup: (server: FleetServer) => void | Promise<void>,
  options: { plumbing?: boolean } = {},
): () => Pinia {
  let server: FleetServer | undefined;
  let pinia: Pinia | undefined;
  beforeEach(async () => {
    server = new FleetServer();
    await setup(server);
    setApiClient(createApiClient({ baseUrl: await server.start() }));
    pinia = activeTestPinia({ plumbing: options.plumbing ?? false });
  });
  afterEach(async () => {
    await server?.stop();
  });
  return () => {
    if (!pinia) throw new Error('useFleetServer: no test is running');
    return pinia;
  };
}
