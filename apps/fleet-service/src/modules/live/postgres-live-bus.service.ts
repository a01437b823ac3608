import { createHash, randomUUID } from 'node:crypto';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import type { Counter, Gauge } from 'prom-client';
import type { Subscription } from 'rxjs';
import { DataSource } from 'typeorm';
import { RateLimitedLog } from '@agentbox/logging';
import { backoffDelay } from '@agentbox/retry';
import type { LiveEvent } from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { encodeLiveBatch, LiveBatchAssembler } from './live-bus-codec.js';
import { groupByDevice } from '../../common/collections.js';
import { TelemetryStore } from '../telemetry/telemetry.store.js';
import { LiveEventsService, type StoredTelemetry } from './live-events.service.js';

/** Pauses between attempts to listen again: 500 ms, doubling up to 30 s. */
const RECONNECT_BACKOFF = { baseMs: 500, capMs: 30_000 };

/** The NOTIFY channel of one database schema: replicas of another fleet in the same database stay apart. */
export function liveChannelOf(schema: string): string {
  return `agentbox_live_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/**
 * Carries live events between replicas sharing one PostgreSQL database. A box's message reaches one
 * replica (shared subscription) while the console tab watching that box may be streaming from another:
 * each replica NOTIFYs what it publishes and LISTENs, on a connection of its own, for the others'.
 * Delivery is best effort, like the SSE stream itself: a replica cut off from the database misses what the
 * others sent meanwhile (its streams catch up at the next event or when the page reloads its data).
 * On SQLite there is one replica and this does nothing.
 */
@Injectable()
export class PostgresLiveBus implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PostgresLiveBus.name);
  private readonly log = new RateLimitedLog(10_000);
  private readonly origin = randomUUID();
  private readonly assembler = new LiveBatchAssembler();
  private readonly rejections: Counter<'reason'>;
  private readonly connected: Gauge;
  private readonly database: { url: string; channel: string } | undefined;
  private outbox: LiveEvent[] = [];
  private storedOutbox: StoredTelemetry[] = [];
  private flushScheduled = false;
  private sending: Promise<void> = Promise.resolve();
  private subscription: Subscription | undefined;
  private listener: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Failed attempts since the last successful LISTEN. */
  private reconnectAttempt = 0;
  private stopped = false;
  /** Reads of telemetry other replicas stored, one after the other. */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly live: LiveEventsService,
    private readonly telemetry: TelemetryStore,
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
    metrics: MetricsService,
  ) {
    const db = config.database;
    this.database = db.type === 'postgres' ? { url: db.url, channel: liveChannelOf(db.schema) } : undefined;
    this.rejections = metrics.counter({
      name: 'agentbox_live_bus_rejections_total',
      help: 'Notifications on the live-event bus between replicas that were refused, by reason',
      labelNames: ['reason'],
    });
    for (const reason of ['malformed', 'invalid-batch']) this.rejections.inc({ reason }, 0);
    this.connected = metrics.gauge({
      name: 'agentbox_live_bus_connected',
      help: '1 while this replica listens for the other replicas’ live events (PostgreSQL only)',
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.database) return;
    this.subscription = this.live.published().subscribe((event) => this.enqueue(event));
    this.subscription.add(
      this.live.stored().subscribe((stored) => {
        this.storedOutbox.push(...stored);
        this.schedule();
      }),
    );
    await this.listen();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    clearTimeout(this.reconnectTimer);
    this.flush();
    await this.sending;
    await this.reading;
    const listener = this.listener;
    this.listener = undefined;
    this.connected.set(0);
    await listener?.end().catch(() => undefined);
  }

  /** True while the LISTEN connection is up (tests, metrics). */
  isListening(): boolean {
    return this.listener !== undefined;
  }

  private enqueue(event: LiveEvent): void {
    this.outbox.push(event);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Events published in one turn of the event loop (an ingest batch) go out as one batch.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (!this.database || this.outbox.length + this.storedOutbox.length === 0) return;
    const events = this.outbox;
    const stored = this.storedOutbox;
    this.outbox = [];
    this.storedOutbox = [];
    const notifications = encodeLiveBatch(this.origin, events, undefined, stored);
    const { channel } = this.database;
    // Sent one batch after the other, so the pieces of a batch are never interleaved with another's.
    this.sending = this.sending.then(() => this.notify(channel, notifications));
  }

  private async notify(channel: string, notifications: string[]): Promise<void> {
    try {
      if (notifications.length === 1) {
        await this.dataSource.query('SELECT pg_notify($1, $2)', [channel, notifications[0]]);
        return;
      }
      // One transaction: its notifications are delivered together, in the order they were sent.
      await this.dataSource.transaction(async (manager) => {
        for (const payload of notifications)
          await manager.query('SELECT pg_notify($1, $2)', [channel, payload]);
      });
    } catch (error) {
      this.warn('send', `Could not send live events to the other replicas: ${(error as Error).message}`);
    }
  }

  private async listen(): Promise<void> {
    if (!this.database || this.stopped) return;
    const { url, channel } = this.database;
    const client = new pg.Client({ connectionString: url, application_name: 'agentbox-live-bus' });
    const lost = (why: string) => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.connected.set(0);
      this.warn('lost', `Live-event bus connection lost (${why}); reconnecting`);
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', (error) => lost(error.message));
    client.on('end', () => lost('closed'));
    client.on('notification', (message) => {
      if (message.channel === channel) this.receive(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      client.end().catch(() => undefined);
      this.warn('connect', `Cannot listen for other replicas' live events: ${(error as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    this.reconnectAttempt = 0;
    this.connected.set(1);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const delayMs = backoffDelay(this.reconnectAttempt, RECONNECT_BACKOFF);
    this.reconnectAttempt += 1;
    this.reconnectTimer = setTimeout(() => void this.listen(), delayMs);
    this.reconnectTimer.unref();
  }

  private receive(payload: string): void {
    const result = this.assembler.push(payload);
    switch (result.kind) {
      case 'partial':
        return;
      case 'rejected':
        this.rejections.inc({ reason: result.reason });
        this.warn(
          result.reason,
          `Live-event bus: refused a notification (${result.reason}): ${result.detail}`,
        );
        return;
      case 'batch':
        if (result.batch.origin === this.origin) return;
        for (const event of result.batch.events) this.live.deliver(event);
        if (result.batch.telemetry && this.live.watched()) this.readStored(result.batch.telemetry);
        return;
    }
  }

  /** Reads back the samples another replica stored, for this replica's open streams, in the order they came. */
  private readStored(stored: StoredTelemetry[]): void {
    this.reading = this.reading
      .then(async () => {
        const rows = await this.telemetry.inRanges(stored);
        for (const [deviceId, samples] of groupByDevice(rows)) {
          this.live.deliver({
            type: 'telemetry',
            deviceId,
            samples: samples.map((row) => ({ ts: row.ts, values: row.values })),
          });
        }
      })
      .catch((error: Error) =>
        this.warn('read', `Could not read telemetry another replica stored: ${error.message}`),
      );
  }

  private warn(key: string, message: string): void {
    const line = this.log.line(key, message);
    if (line !== null) this.logger.warn(line);
  }
}
