import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  FINAL_RUN_STATUSES,
  HOOK_BODY_MAX_BYTES,
  HOOK_INPUT_MAX_CHARS,
  type HookCreateRequest,
  type HookCreatedDto,
  type HookDeliveryListResponse,
  type HookDto,
  type HookInvokeResponse,
  type HookListResponse,
} from '@agentbox/schemas';
import { randomBase32, randomSecret } from '../../common/secrets.js';
import { AppConfig } from '../../config/app-config.js';
import { AgentsService } from '../agents/agents.service.js';
import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../auth/auth.decorators.js';
import { DeviceException } from '../devices/devices.exception.js';
import { DevicesService } from '../devices/devices.service.js';
import { RunRow } from '../runs/run.entity.js';
import { reencryptStale } from '../secrets/reencrypt-stale.js';
import { SecretCipher } from '../secrets/secret-cipher.js';
import { HookDeliveryRow, HookRow } from './hook.entity.js';
import { HookAuthenticator, type HookCredentials } from './hook-authenticator.js';
import { emptyDeliveryCounts, HookDeliveriesService } from './hook-deliveries.service.js';
import { HookRateLimit } from './hook-rate-limit.js';
import { HookException } from './hooks.exception.js';

/** Binds a stored ciphertext to its hook row. */
const aadOf = (hookId: string) => `hook:${hookId}:secret`;
const FINAL = new Set<string>(FINAL_RUN_STATUSES);
const WAIT_POLL_MS = 200;

/** What the invoke route hands over from the HTTP request. */
export interface Invocation extends HookCredentials {
  /** Seconds to wait for the run to end (0: answer once the box took it). */
  waitSec: number;
}

export interface InvokeOutcome {
  status: 200 | 202;
  body: HookInvokeResponse;
}

/**
 * Webhooks: created and rotated by operators, invoked by anyone holding the hook's secret (as a bearer
 * token or an HMAC signature), relayed to the hook's agent on its box as an `agent.run` command, or queued
 * while the box is offline and delivered in order once it is back (docs/architecture.md, "Hooks").
 */
@Injectable()
export class HooksService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HooksService.name);
  private readonly rateLimit: HookRateLimit;
  private sweeper: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    @InjectRepository(HookRow) private readonly hooks: Repository<HookRow>,
    @InjectRepository(RunRow) private readonly runs: Repository<RunRow>,
    private readonly cipher: SecretCipher,
    private readonly agents: AgentsService,
    private readonly devices: DevicesService,
    private readonly deliveries: HookDeliveriesService,
    private readonly authenticator: HookAuthenticator,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {
    this.rateLimit = new HookRateLimit(config.hooks.ratePerMinute);
  }

  async onApplicationBootstrap(): Promise<void> {
    const rotated = await this.reencryptStale();
    if (rotated > 0) this.logger.log(`re-encrypted ${rotated} hook secrets with the current secrets key`);
    this.sweeper = setInterval(() => {
      this.sweeping = this.sweep();
    }, this.config.hooks.sweepMs);
    this.sweeper.unref();
  }

  /** Re-encrypts secrets sealed under a previous AGENTBOX_SECRETS_KEY with the current one; returns how many. */
  async reencryptStale(): Promise<number> {
    return reencryptStale(
      this.hooks,
      this.cipher,
      [{ column: 'secretSealed', aad: (row) => aadOf(row.id) }],
      (row, error) => this.logger.error(`The secret of hook ${row.id} cannot be read: ${error.message}`),
    );
  }

  /** Before the database closes (the TypeORM module closes it at application shutdown): no work is left running. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await this.sweeping;
  }

  // ------------------------------------------------------------------------------------------ management

  async list(base: string): Promise<HookListResponse> {
    const rows = await this.hooks.find({ order: { createdAt: 'DESC', id: 'ASC' } });
    const counts = await this.deliveries.counts(rows.map((row) => row.id));
    return { items: rows.map((row) => this.toDto(row, base, counts.get(row.id))) };
  }

  async get(id: string, base: string): Promise<HookDto> {
    const row = await this.require(id);
    const counts = await this.deliveries.counts([id]);
    return this.toDto(row, base, counts.get(id));
  }

  async create(request: HookCreateRequest, actor: AuthUser, base: string): Promise<HookCreatedDto> {
    await this.agents.get(request.agentId);
    await this.devices.get(request.deviceId);
    const now = new Date();
    const id = randomBase32(16);
    const secret = newSecret();
    const row: HookRow = {
      id,
      name: request.name,
      agentId: request.agentId,
      deviceId: request.deviceId,
      secretSealed: this.cipher.encrypt(secret, aadOf(id)),
      deliveryTtlSec: request.deliveryTtlSec ?? this.config.hooks.deliveryTtlSec,
      createdBy: actor.username,
      createdAt: now,
      secretRotatedAt: now,
      lastInvokedAt: null,
    };
    await this.hooks.manager.transaction(async (manager) => {
      await manager.getRepository(HookRow).insert(row);
      await this.audit.record(
        {
          actor: actor.username,
          action: 'hook.created',
          targetType: 'hook',
          targetId: id,
          detail: {
            name: row.name,
            agentId: row.agentId,
            deviceId: row.deviceId,
            deliveryTtlSec: row.deliveryTtlSec,
          },
        },
        manager,
      );
    });
    return { ...this.toDto(row, base, undefined), secret };
  }

  async rotateSecret(id: string, actor: AuthUser, base: string): Promise<HookCreatedDto> {
    const row = await this.require(id);
    const secret = newSecret();
    row.secretSealed = this.cipher.encrypt(secret, aadOf(id));
    row.secretRotatedAt = new Date();
    await this.hooks.manager.transaction(async (manager) => {
      await manager
        .getRepository(HookRow)
        .update({ id }, { secretSealed: row.secretSealed, secretRotatedAt: row.secretRotatedAt });
      await this.audit.record(
        {
          actor: actor.username,
          action: 'hook.secret-rotated',
          targetType: 'hook',
          targetId: id,
          detail: { name: row.name },
        },
        manager,
      );
    });
    const counts = await this.deliveries.counts([id]);
    return { ...this.toDto(row, base, counts.get(id)), secret };
  }

  /** Deletes the hook and the deliveries still waiting for its box. */
  async remove(id: string, actor: AuthUser): Promise<void> {
    const row = await this.require(id);
    await this.hooks.manager.transaction(async (manager) => {
      await manager.getRepository(HookDeliveryRow).delete({ hookId: id });
      await manager.getRepository(HookRow).delete({ id });
      await this.audit.record(
        {
          actor: actor.username,
          action: 'hook.deleted',
          targetType: 'hook',
          targetId: id,
          detail: { name: row.name, agentId: row.agentId, deviceId: row.deviceId },
        },
        manager,
      );
    });
  }

  async listDeliveries(id: string): Promise<HookDeliveryListResponse> {
    await this.require(id);
    return this.deliveries.list(id);
  }

  // ------------------------------------------------------------------------------------------ invocation

  async invoke(
    id: string,
    invocation: Invocation,
    setRetryAfter: (seconds: number) => void,
  ): Promise<InvokeOutcome> {
    const retryAfter = this.rateLimit.take(id);
    if (retryAfter > 0) {
      setRetryAfter(retryAfter);
      throw new HookException(
        'HOOK_RATE_LIMITED',
        `Hook ${id} is called too often; retry in ${retryAfter} s`,
      );
    }
    // Stands for the request in the audit log: the body (the caller's data) is not copied there.
    await this.audit.record({
      actor: `hook:${id}`,
      actorType: 'anonymous',
      action: 'hook.invoked',
      targetType: 'hook',
      targetId: id,
      detail: {
        bytes: invocation.body.length,
        auth: invocation.signature !== undefined ? 'signature' : 'bearer',
        wait: invocation.waitSec,
      },
    });
    const hook = await this.hooks.findOneBy({ id });
    if (!hook) throw new HookException('HOOK_NOT_FOUND', `Hook ${id} not found`);
    if (invocation.body.length > HOOK_BODY_MAX_BYTES) {
      throw new HookException('HOOK_BODY_TOO_LARGE', `The body is larger than ${HOOK_BODY_MAX_BYTES} bytes`);
    }
    await this.authenticator.authenticate(id, this.cipher.decrypt(hook.secretSealed, aadOf(id)), invocation);
    const input = invocation.body.length === 0 ? '{}' : invocation.body.toString('utf8');
    if (input.length > HOOK_INPUT_MAX_CHARS) {
      throw new HookException(
        'HOOK_INPUT_TOO_LARGE',
        `The body is ${input.length} characters; a run's input on a box holds at most ${HOOK_INPUT_MAX_CHARS}`,
      );
    }
    const now = new Date();
    await this.hooks.update({ id }, { lastInvokedAt: now });
    let online: boolean;
    try {
      online = (await this.devices.get(hook.deviceId)).online;
    } catch (error) {
      if (error instanceof DeviceException && error.code === 'DEVICE_NOT_FOUND') {
        throw new HookException('HOOK_DEVICE_GONE', `The box of hook ${id} (${hook.deviceId}) was removed`);
      }
      throw error;
    }
    const sent = await this.deliveries.sendOrQueue(hook, input, now, online);
    if (!('runId' in sent) || invocation.waitSec <= 0) return { status: 202, body: sent };
    return this.waitForRun(sent.runId, invocation.waitSec);
  }

  private async waitForRun(runId: string, waitSec: number): Promise<InvokeOutcome> {
    const deadline = Date.now() + waitSec * 1000;
    for (;;) {
      const run = await this.runs.findOneBy({ id: runId });
      if (run && FINAL.has(run.status)) {
        return { status: 200, body: { runId, status: run.status, output: run.output, error: run.error } };
      }
      if (Date.now() + WAIT_POLL_MS > deadline || this.stopping) return { status: 202, body: { runId } };
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  /**
   * Every replica, every AGENTBOX_HOOK_SWEEP_MS: expires and delivers the queued calls, and forgets
   * signatures past the window.
   */
  async sweep(): Promise<void> {
    if (this.stopping) return;
    try {
      const now = Date.now();
      await this.deliveries.sweep(now);
      await this.authenticator.forgetOld(now);
    } catch (error) {
      this.logger.warn(`The hook delivery sweep failed: ${(error as Error).message}`);
    }
  }

  // ------------------------------------------------------------------------------------------ helpers

  private async require(id: string): Promise<HookRow> {
    const row = await this.hooks.findOneBy({ id });
    if (!row) throw new HookException('HOOK_NOT_FOUND', `Hook ${id} not found`);
    return row;
  }

  private toDto(row: HookRow, base: string, deliveries: HookDto['deliveries'] | undefined): HookDto {
    return {
      id: row.id,
      name: row.name,
      agentId: row.agentId,
      deviceId: row.deviceId,
      url: `${(this.config.publicUrl ?? base).replace(/\/+$/, '')}/api/v1/hooks/${row.id}/invoke`,
      deliveryTtlSec: row.deliveryTtlSec,
      createdAt: row.createdAt.toISOString(),
      createdBy: row.createdBy,
      secretRotatedAt: row.secretRotatedAt.toISOString(),
      lastInvokedAt: row.lastInvokedAt?.toISOString() ?? null,
      deliveries: deliveries ?? emptyDeliveryCounts(),
    };
  }
}

function newSecret(): string {
  return `abh_${randomSecret(32)}`;
}
