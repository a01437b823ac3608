import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { AgentIdSchema } from '@agentbox/schemas';
import type { InstalledAgent } from '../agents.contracts.js';
import type { FireRun } from './agent-schedules.js';

/** Loopback only: the webhook is for programs on the box itself, never for the network. */
export const WEBHOOK_HOST = '127.0.0.1';
/** An input is at most 10 000 characters, i.e. at most 40 000 bytes of UTF-8 plus the JSON around it. */
export const WEBHOOK_MAX_BODY_BYTES = 64 * 1024;

const WebhookBodySchema = z.object({ input: z.string().min(1).max(10_000) });
const ROUTE = /^\/agents\/([^/?#]+)\/runs\/?(?:\?.*)?$/;

export interface WebhookLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface WebhookServerOptions {
  port: number;
  /** Take a free port when `port` is in use (the default port, not one the operator chose). */
  fallbackToFreePort?: boolean;
  /** The installed agent by id; only agents with a webhook trigger answer. */
  findAgent: (agentId: string) => InstalledAgent | undefined;
  fire: FireRun;
  logger: WebhookLogger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `POST http://127.0.0.1:{AGENTBOX_WEBHOOK_PORT}/agents/{agentId}/runs` with `{"input": "..."}`:
 * 202 `{runId, queued}`, 404 for an agent that is not installed or has no webhook trigger, 409
 * `{reason}` when the agent refuses (busy with `onBusy: reject`, queue full, budget...), 400 for a
 * bad body, 413 above the body cap.
 */
export class WebhookServer {
  private server: Server | undefined;

  constructor(private readonly options: WebhookServerOptions) {}

  async start(): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.options.logger.warn('webhook request failed', { err: (error as Error).message });
        send(res, 500, { error: 'internal error' });
      });
    });
    server.requestTimeout = 15_000;
    server.headersTimeout = 10_000;
    try {
      await listen(server, this.options.port);
    } catch (error) {
      // A second box on the same machine finds the default port taken: it takes a free one and reports
      // it in its state (current.webhook), rather than running without its webhook.
      if (!this.options.fallbackToFreePort || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE')
        throw error;
      await listen(server, 0);
      this.options.logger.warn('the agent webhook port is taken: listening on a free port instead', {
        wanted: this.options.port,
        port: (server.address() as AddressInfo).port,
      });
    }
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Where agents with a webhook trigger take runs, or undefined while not listening. */
  get url(): string | undefined {
    const port = this.port;
    return port === undefined ? undefined : `http://${WEBHOOK_HOST}:${port}/agents/{agentId}/runs`;
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const match = ROUTE.exec(req.url ?? '');
      if (!match) throw new HttpError(404, 'no such route; use POST /agents/{agentId}/runs');
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new HttpError(405, 'use POST');
      }
      const agentId = decodeURIComponent(match[1]!);
      const agent = AgentIdSchema.safeParse(agentId).success ? this.options.findAgent(agentId) : undefined;
      if (!agent) throw new HttpError(404, `agent ${agentId} is not installed on this box`);
      if (!agent.definition.triggers.some((trigger) => trigger.type === 'webhook'))
        throw new HttpError(404, `agent ${agentId} has no webhook trigger`);
      const body = await readBody(req);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw new HttpError(400, 'the body must be JSON: {"input": "..."}');
      }
      const parsed = WebhookBodySchema.safeParse(json);
      if (!parsed.success)
        throw new HttpError(
          400,
          `the body must be {"input": "..."} (1-10000 characters): ${parsed.error.issues[0]?.message ?? ''}`,
        );
      const outcome = await this.options.fire(
        agentId,
        { type: 'webhook', detail: 'POST /agents/{agentId}/runs' },
        parsed.data.input,
      );
      if (!outcome.accepted) {
        send(res, 409, { reason: outcome.reason });
        return;
      }
      send(res, 202, { runId: outcome.runId, queued: outcome.queued });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      // The rest of an oversized body is not read: close the connection rather than drain it.
      if (error.status === 413) res.setHeader('connection', 'close');
      send(res, error.status, { error: error.message });
    }
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, WEBHOOK_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > WEBHOOK_MAX_BODY_BYTES)
    return Promise.reject(new HttpError(413, `the body may be at most ${WEBHOOK_MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > WEBHOOK_MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpError(413, `the body may be at most ${WEBHOOK_MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
