import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { ChannelCreateRequestSchema, ChannelDto, ChannelUpdateRequestSchema } from '@agentbox/schemas';
import type { z } from 'zod';
import { reencryptStale } from '../secrets/reencrypt-stale.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { redactUrl, type ChannelTarget } from './channel-formats.js';
import { ChannelRow } from './channel.entity.js';
import { emailShownUrl, parseEmailSettings, type EmailSettings } from './email-sender.js';
import { NotificationException } from './notifications.exception.js';

type ChannelCreate = z.output<typeof ChannelCreateRequestSchema>;
type ChannelUpdate = z.output<typeof ChannelUpdateRequestSchema>;

/** Binds a stored ciphertext to its channel row and field. */
const aadOf = (channelId: string, field: 'url' | 'secret') => `channel:${channelId}:${field}`;

/**
 * What a new channel stores: its URL (for e-mail, the SMTP settings as JSON: they name the mail server
 * and the recipients, so they are sealed like a robot URL), what the API shows, and its secret.
 */
function storedOf(body: ChannelCreate): { url: string; shown: string; secret: string | undefined } {
  if (body.type === 'email') {
    const { password, ...settings } = body.config;
    return { url: JSON.stringify(settings), shown: emailShownUrl(settings), secret: password };
  }
  return { url: body.config.url, shown: redactUrl(body.type, body.config.url), secret: body.config.secret };
}

function toDto(row: ChannelRow): ChannelDto {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    url: row.urlShown,
    hasSecret: row.secretSealed !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Notification channels; URLs and secrets encrypted at rest with the secrets key, never returned. */
@Injectable()
export class ChannelsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ChannelsService.name);
  private readonly usageChecks: Array<(channelId: string) => Promise<string[]>> = [];

  constructor(
    @InjectRepository(ChannelRow) private readonly channels: Repository<ChannelRow>,
    private readonly cipher: SecretCipher,
  ) {}

  /** Re-encrypts URLs and secrets stored under a previous AGENTBOX_SECRETS_KEY with the current one. */
  async onApplicationBootstrap(): Promise<void> {
    const rotated = await this.reencryptStale();
    if (rotated > 0)
      this.logger.log(`re-encrypted ${rotated} notification channels with the current secrets key`);
  }

  /** Re-encrypts every channel not sealed with the current key; returns how many. Safe on several replicas. */
  async reencryptStale(): Promise<number> {
    return reencryptStale(
      this.channels,
      this.cipher,
      [
        { column: 'urlSealed', aad: (row) => aadOf(row.id, 'url') },
        { column: 'secretSealed', aad: (row) => aadOf(row.id, 'secret') },
      ],
      (row, error) => this.logger.error(`Notification channel ${row.id} cannot be read: ${error.message}`),
    );
  }

  /** The alerts module registers here: names of the rules sending to a channel, which then cannot be deleted. */
  addUsageCheck(check: (channelId: string) => Promise<string[]>): void {
    this.usageChecks.push(check);
  }

  async list(): Promise<ChannelDto[]> {
    return (await this.channels.find({ order: { name: 'ASC', id: 'ASC' } })).map(toDto);
  }

  async get(id: string): Promise<ChannelDto> {
    return toDto(await this.require(id));
  }

  /** Ids among `ids` that name no channel. */
  async unknown(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const found = new Set((await this.channels.findBy({ id: In([...ids]) })).map((row) => row.id));
    return ids.filter((id) => !found.has(id));
  }

  async create(body: ChannelCreate): Promise<{ id: string }> {
    const id = randomUUID();
    const now = new Date();
    const { url, shown, secret } = storedOf(body);
    await this.channels.insert({
      id,
      name: body.name,
      type: body.type,
      urlSealed: this.cipher.encrypt(url, aadOf(id, 'url')),
      urlShown: shown,
      secretSealed: secret === undefined ? null : this.cipher.encrypt(secret, aadOf(id, 'secret')),
      createdAt: now,
      updatedAt: now,
    });
    return { id };
  }

  async update(id: string, patch: ChannelUpdate): Promise<ChannelDto> {
    const row = await this.require(id);
    if (patch.name !== undefined) row.name = patch.name;
    const { url, secret: httpSecret, password, ...email } = patch.config ?? {};
    const emailChanges = Object.values(email).some((value) => value !== undefined);
    const isEmail = row.type === 'email';
    if (isEmail ? url !== undefined || httpSecret !== undefined : emailChanges || password !== undefined) {
      throw new NotificationException(
        'CHANNEL_CONFIG_MISMATCH',
        isEmail
          ? 'An e-mail channel has no url or secret: change host, port, secure, username, password, from or to'
          : `A ${row.type} channel has only a url and a secret`,
      );
    }
    if (url !== undefined) {
      row.urlSealed = this.cipher.encrypt(url, aadOf(id, 'url'));
      row.urlShown = redactUrl(row.type, url);
    }
    if (emailChanges) this.applyEmailChanges(row, email);
    const secret = isEmail ? password : httpSecret;
    if (secret === null) row.secretSealed = null;
    else if (secret !== undefined) row.secretSealed = this.cipher.encrypt(secret, aadOf(id, 'secret'));
    row.updatedAt = new Date();
    await this.channels.save(row);
    return toDto(row);
  }

  private applyEmailChanges(row: ChannelRow, changes: Omit<NonNullable<ChannelUpdate['config']>, 'url'>) {
    const settings: EmailSettings = parseEmailSettings(
      this.cipher.decrypt(row.urlSealed, aadOf(row.id, 'url')),
    );
    const { host, port, secure, username, from, to } = changes;
    if (host !== undefined) settings.host = host;
    if (port !== undefined) settings.port = port;
    if (secure !== undefined) settings.secure = secure;
    if (username === null) delete settings.username;
    else if (username !== undefined) settings.username = username;
    if (from !== undefined) settings.from = from;
    if (to !== undefined) settings.to = to;
    row.urlSealed = this.cipher.encrypt(JSON.stringify(settings), aadOf(row.id, 'url'));
    row.urlShown = emailShownUrl(settings);
  }

  async remove(id: string): Promise<void> {
    await this.require(id);
    const users: string[] = [];
    for (const check of this.usageChecks) users.push(...(await check(id)));
    if (users.length > 0) {
      throw new NotificationException(
        'CHANNEL_IN_USE',
        `Alert rules still send to this channel: ${users.join(', ')}`,
      );
    }
    await this.channels.delete({ id });
  }

  /**
   * Where and how to send, decrypted; for the notifier only, never returned nor logged. A channel that
   * cannot be decrypted (its key is gone) is logged and left out, so the others still get the alert.
   */
  async targets(ids: readonly string[]): Promise<Map<string, ChannelTarget>> {
    const targets = new Map<string, ChannelTarget>();
    if (ids.length === 0) return targets;
    for (const row of await this.channels.findBy({ id: In([...ids]) })) {
      const target = this.readableTarget(row);
      if (target !== undefined) targets.set(row.id, target);
    }
    return targets;
  }

  private readableTarget(row: ChannelRow): ChannelTarget | undefined {
    try {
      return this.targetOf(row);
    } catch (error) {
      this.logger.error(`Notification channel ${row.id} cannot be read: ${(error as Error).message}`);
      return undefined;
    }
  }

  async target(id: string): Promise<ChannelTarget> {
    return this.targetOf(await this.require(id));
  }

  private targetOf(row: ChannelRow): ChannelTarget {
    return {
      type: row.type,
      url: this.cipher.decrypt(row.urlSealed, aadOf(row.id, 'url')),
      secret:
        row.secretSealed === null
          ? undefined
          : this.cipher.decrypt(row.secretSealed, aadOf(row.id, 'secret')),
    };
  }

  private async require(id: string): Promise<ChannelRow> {
    const row = await this.channels.findOneBy({ id });
    if (!row) throw new NotificationException('CHANNEL_NOT_FOUND', `Notification channel ${id} not found`);
    return row;
  }
}
