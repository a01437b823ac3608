import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, type Repository } from 'typeorm';
import type { DeliveryDto, DeliveryOutcome } from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { buildRequest, refusalIn, type ChannelTarget, type Notification } from './channel-formats.js';
import { DeliveryRow } from './channel.entity.js';
import { ChannelsService } from './channels.service.js';
import { emailMessage } from './email-format.js';
import { parseEmailSettings, sendEmail } from './email-sender.js';
import { testNotification } from './test-notification.js';

/** Attempts per alert notification, and the pause before each retry. */
const RETRY_DELAYS_MS = [1_000, 5_000] as const;
const REQUEST_TIMEOUT_MS = 10_000;
/** How long delivery outcomes are kept (docs/operations.md, "Alerts and notification channels"). */
export const DELIVERY_RETENTION_MS = 30 * 86_400_000;
const MAX_ERROR_LENGTH = 500;
/** How many deliveries a channel's list shows. */
const RECENT_DELIVERIES = 50;

/** One alert's notification and the channels its rule sends to. */
export interface PendingNotification {
  channelIds: readonly string[];
  alertId: string;
  notification: Notification;
}

/**
 * Sends notifications to channels over HTTP (e-mail over SMTP), retrying with backoff, and stores each delivery's outcome
 * (`notification_deliveries`) so failures show in the console.
 */
@Injectable()
export class NotifierService implements OnApplicationShutdown {
  private readonly logger = new Logger(NotifierService.name);
  private readonly inFlight = new Set<Promise<void>>();
  /** Pauses between attempts; tests shorten them. */
  retryDelaysMs: readonly number[] = RETRY_DELAYS_MS;

  constructor(
    @InjectRepository(DeliveryRow) private readonly deliveries: Repository<DeliveryRow>,
    private readonly channels: ChannelsService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** The channel test: one attempt of a test notification, answered at once. */
  async test(channelId: string): Promise<DeliveryOutcome> {
    const target = await this.channels.target(channelId);
    const outcome = await this.attempt(target, testNotification(new Date()));
    const result = { ...outcome, attempts: 1 };
    await this.record(channelId, null, 'test', result);
    return result;
  }

  /**
   * Sends each alert's notification to its channels in the background (the evaluation does not wait for
   * slow receivers). The channels of the whole batch are read and decrypted once.
   */
  notify(outbox: readonly PendingNotification[]): void {
    if (outbox.length === 0) return;
    const job = this.deliverAll(outbox).catch((error: unknown) => {
      this.logger.error(`Alert notifications failed: ${(error as Error).message}`);
    });
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Resolves once every background delivery started so far is done (tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Forgets deliveries older than DELIVERY_RETENTION_MS; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    const result = await this.deliveries.delete({ sentAt: LessThan(now - DELIVERY_RETENTION_MS) });
    return result.affected ?? 0;
  }

  /** The latest deliveries to a channel, newest first; CHANNEL_NOT_FOUND when there is no such channel. */
  async recent(channelId: string): Promise<DeliveryDto[]> {
    await this.channels.get(channelId);
    const rows = await this.deliveries.find({
      where: { channelId },
      order: { sentAt: 'DESC', id: 'ASC' },
      take: RECENT_DELIVERIES,
    });
    return rows.map((row) => ({
      id: row.id,
      channelId: row.channelId,
      alertId: row.alertId,
      kind: row.kind,
      ok: row.ok === 1,
      statusCode: row.statusCode,
      error: row.error,
      attempts: row.attempts,
      sentAt: new Date(row.sentAt).toISOString(),
    }));
  }

  private async deliverAll(outbox: readonly PendingNotification[]): Promise<void> {
    const targets = await this.channels.targets([...new Set(outbox.flatMap((item) => item.channelIds))]);
    await Promise.all(
      outbox.flatMap(({ channelIds, alertId, notification }) =>
        [...new Set(channelIds)].map(async (id) => {
          const target = targets.get(id);
          if (target === undefined) return;
          const outcome = await this.withRetries(target, notification);
          if (!outcome.ok) this.logger.warn(`Channel ${id} did not take alert ${alertId}: ${outcome.error}`);
          await this.record(id, alertId, notification.event, outcome);
        }),
      ),
    );
  }

  private async withRetries(target: ChannelTarget, notification: Notification): Promise<DeliveryOutcome> {
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const outcome = await this.attempt(target, notification);
      const delay = this.retryDelaysMs[attempts - 1];
      // A 4xx other than 429 will not get better by asking again.
      const final =
        outcome.ok ||
        (outcome.statusCode !== undefined &&
          outcome.statusCode < 500 &&
          outcome.statusCode !== 429 &&
          outcome.statusCode >= 400);
      if (final || delay === undefined) return { ...outcome, attempts };
      await sleep(delay);
    }
  }

  private async attempt(
    target: ChannelTarget,
    notification: Notification,
  ): Promise<Omit<DeliveryOutcome, 'attempts'>> {
    if (target.type === 'email') return this.attemptEmail(target, notification);
    const request = buildRequest(target, notification, Date.now());
    try {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'error',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      if (!response.ok) {
        return {
          ok: false,
          statusCode: response.status,
          error: `HTTP ${response.status} ${text}`.slice(0, MAX_ERROR_LENGTH),
        };
      }
      const refusal = refusalIn(target.type, text);
      if (refusal !== null)
        return { ok: false, statusCode: response.status, error: refusal.slice(0, MAX_ERROR_LENGTH) };
      return { ok: true, statusCode: response.status };
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      return {
        ok: false,
        error: `${(error as Error).message}${cause ? `: ${cause}` : ''}`.slice(0, MAX_ERROR_LENGTH),
      };
    }
  }

  /** SMTP refusals and connection errors are failed deliveries, retried like an HTTP 5xx. */
  private async attemptEmail(
    target: ChannelTarget,
    notification: Notification,
  ): Promise<Omit<DeliveryOutcome, 'attempts'>> {
    const message = emailMessage(notification, this.config.publicUrl);
    const error = await sendEmail(parseEmailSettings(target.url), target.secret, message);
    return error === null ? { ok: true } : { ok: false, error: error.slice(0, MAX_ERROR_LENGTH) };
  }

  private async record(
    channelId: string,
    alertId: string | null,
    kind: DeliveryRow['kind'],
    outcome: DeliveryOutcome,
  ): Promise<void> {
    await this.deliveries.insert({
      id: randomUUID(),
      channelId,
      alertId,
      kind,
      ok: outcome.ok ? 1 : 0,
      statusCode: outcome.statusCode ?? null,
      error: outcome.error ?? null,
      attempts: outcome.attempts,
      sentAt: Date.now(),
    });
  }
}
