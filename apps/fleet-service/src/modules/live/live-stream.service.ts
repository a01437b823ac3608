import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gauge } from 'prom-client';
import type { Subscription } from 'rxjs';
import { MetricsService } from '../metrics/metrics.service.js';
import { LiveEventsService } from './live-events.service.js';

/** A comment line this often keeps proxies and browsers from closing an idle stream. */
export const KEEP_ALIVE_MS = 15_000;

/** Serves LiveEvents as server-sent events, one stream per console tab. */
@Injectable()
export class LiveStreamService implements BeforeApplicationShutdown {
  private readonly open$ = new Set<() => void>();
  private readonly clients: Gauge;

  constructor(
    private readonly live: LiveEventsService,
    metrics: MetricsService,
  ) {
    this.clients = metrics.gauge({ name: 'agentbox_live_clients', help: 'Open server-sent event streams' });
  }

  open(request: FastifyRequest, reply: FastifyReply): void {
    // The stream is written on the raw socket; Fastify must not send a reply of its own.
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 3000\n: connected\n\n');
    const subscription: Subscription = this.live.stream().subscribe((event) => {
      raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      subscription.unsubscribe();
      this.open$.delete(close);
      this.clients.dec();
      if (!raw.writableEnded) raw.end();
    };
    this.open$.add(close);
    this.clients.inc();
    request.raw.on('close', close);
    raw.on('close', close);
    raw.on('error', close);
  }

  /** Ends open streams so shutdown is not held up by long-lived connections. */
  beforeApplicationShutdown(): void {
    for (const close of [...this.open$]) close();
  }
}
