import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  type ProviderCreateRequestSchema,
  type ProviderDto,
  type ProviderUpdateRequestSchema,
} from '@agentbox/schemas';
import type { z } from 'zod';
import { Listeners } from '../../common/listeners.js';
import { reencryptStale } from '../secrets/reencrypt-stale.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { ProviderRow } from './provider.entity.js';
import { toProviderDto } from './providers.dto.js';
import { ProviderException } from './providers.exception.js';

type ProviderCreate = z.output<typeof ProviderCreateRequestSchema>;
type ProviderUpdate = z.output<typeof ProviderUpdateRequestSchema>;

/** Binds a stored ciphertext to its provider row. */
const aadOf = (providerId: string) => `provider:${providerId}:apiKey`;

/** Model providers; API keys encrypted at rest, handed out only in plain text to the sealing step. */
@Injectable()
export class ProvidersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProvidersService.name);

  constructor(
    @InjectRepository(ProviderRow) private readonly providers: Repository<ProviderRow>,
    private readonly cipher: SecretCipher,
  ) {}

  /** Told after a provider changed: boxes running an agent that uses it get a new document. */
  readonly changed = new Listeners<[providerId: string]>();
  private readonly usageChecks: Array<(providerId: string) => Promise<string[]>> = [];

  /** The agents module registers here: ids of the agents using a provider, which then cannot be deleted. */
  addUsageCheck(check: (providerId: string) => Promise<string[]>): void {
    this.usageChecks.push(check);
  }

  /** Re-encrypts keys stored under a previous AGENTBOX_SECRETS_KEY with the current one. */
  async onApplicationBootstrap(): Promise<void> {
    const rotated = await this.reencryptStale();
    if (rotated > 0) this.logger.log(`re-encrypted ${rotated} provider keys with the current secrets key`);
  }

  async list(): Promise<ProviderDto[]> {
    return (await this.providers.find({ order: { id: 'ASC' } })).map(toProviderDto);
  }

  async get(id: string): Promise<ProviderDto> {
    return toProviderDto(await this.require(id));
  }

  async create(body: ProviderCreate): Promise<ProviderDto> {
    if (await this.providers.existsBy({ id: body.id })) {
      throw new ProviderException('PROVIDER_EXISTS', `Provider ${body.id} already exists`);
    }
    const now = new Date();
    const row: ProviderRow = {
      id: body.id,
      name: body.name,
      kind: body.kind,
      baseUrl: body.baseUrl,
      models: [...new Set(body.models)],
      version: 1,
      apiKey: body.apiKey === undefined ? null : this.cipher.encrypt(body.apiKey, aadOf(body.id)),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.providers.insert(row);
    } catch (error) {
      if (await this.providers.existsBy({ id: body.id })) {
        throw new ProviderException('PROVIDER_EXISTS', `Provider ${body.id} already exists`);
      }
      throw error;
    }
    return toProviderDto(row);
  }

  async update(id: string, patch: ProviderUpdate): Promise<ProviderDto> {
    const row = await this.require(id);
    if (patch.name !== undefined) row.name = patch.name;
    if (patch.kind !== undefined) row.kind = patch.kind;
    if (patch.baseUrl !== undefined) row.baseUrl = patch.baseUrl;
    if (patch.models !== undefined) row.models = [...new Set(patch.models)];
    if (patch.apiKey === null) row.apiKey = null;
    else if (patch.apiKey !== undefined) row.apiKey = this.cipher.encrypt(patch.apiKey, aadOf(id));
    row.version += 1;
    row.updatedAt = new Date();
    await this.providers.save(row);
    await this.changed.notify(id);
    return toProviderDto(row);
  }

  async remove(id: string): Promise<void> {
    await this.require(id);
    const users: string[] = [];
    for (const check of this.usageChecks) users.push(...(await check(id)));
    if (users.length > 0) {
      throw new ProviderException(
        'PROVIDER_IN_USE',
        `Provider ${id} is used by agent${users.length > 1 ? 's' : ''} ${users.join(', ')}`,
      );
    }
    await this.providers.delete({ id });
  }

  /** Every provider row (the sealing step decrypts keys of the ones a box needs with apiKeyOf). */
  all(): Promise<ProviderRow[]> {
    return this.providers.find();
  }

  /** The plain API key, for sealing it to one box; never returned by the API nor logged. */
  apiKeyOf(row: ProviderRow): string | undefined {
    return row.apiKey === null ? undefined : this.cipher.decrypt(row.apiKey, aadOf(row.id));
  }

  /** Re-encrypts every key not sealed with the current key; returns how many. Safe to run on several replicas. */
  async reencryptStale(): Promise<number> {
    return reencryptStale(
      this.providers,
      this.cipher,
      [{ column: 'apiKey', aad: (row) => aadOf(row.id) }],
      (row, error) => this.logger.error(`The API key of provider ${row.id} cannot be read: ${error.message}`),
    );
  }

  private async require(id: string): Promise<ProviderRow> {
    const row = await this.providers.findOneBy({ id });
    if (!row) throw new ProviderException('PROVIDER_NOT_FOUND', `Provider ${id} not found`);
    return row;
  }
}
