import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Gauge } from 'prom-client';
import type { Subscription } from 'rxjs';
import { AppConfig } from '../../config/app-config.js';
import type { AuthUser } from '../auth/auth.decorators.js';
import { AuthService } from '../auth/auth.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { LiveEventsService } from './live-events.service.js';

/**
 * Serves LiveEvents as server-sent events, one stream per console tab. Every AGENTBOX_LIVE_CHECK_MS a
 * comment line keeps proxies and browsers from closing an idle stream, and the caller is checked again:
 * a stream outlives the request that opened it, so a user disabled, deleted or whose password was
 * reset, or a revoked key, would otherwise go on watching the fleet until it reconnected. Checking the
 * database rather than listening for the change holds on every replica alike.
 */
@Injectable()
export class LiveStreamService implements BeforeApplicationShutdown {
  private readonly open$ = new Set<() => void>();
  private readonly clients: Gauge;

  constructor(
    private readonly live: LiveEventsService,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.clients = metrics.gauge({ name: 'agentbox_live_clients', help: 'Open server-sent event streams' });
  }

  open(request: FastifyRequest, reply: FastifyReply, caller: AuthUser): void {
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
    const keepAlive = setInterval(() => {
      raw.write(': keep-alive\n\n');
      void this.auth.stillAllowed(caller).then(
        (allowed) => {
          if (allowed) return;
          // The console signs in again on this event instead of reconnecting with a dead session.
          if (!raw.writableEnded) raw.write('event: session-ended\ndata: {}\n\n');
          close();
        },
        () => undefined, // the database is away: /readyz says so; the next tick checks again
      );
    }, this.config.liveCheckMs);
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
