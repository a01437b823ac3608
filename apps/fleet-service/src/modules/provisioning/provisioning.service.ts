import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  type ClaimTokenCreated,
  type ClaimTokenCreateRequest,
  type ClaimTokenDto,
  type ClaimTokenListResponse,
  type EnrollmentInfo,
  type ProvisionRequest,
  type ProvisionResponse,
} from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { BROKER, type BrokerPort } from '../../common/ports.js';
import { randomSecret, sha256Hex } from '../../common/secrets.js';
import { AuditService } from '../audit/audit.service.js';
import { DevicesService } from '../devices/devices.service.js';
import { ClaimToken } from './claim-token.entity.js';
import { ProvisioningException } from './provisioning.exception.js';

/** Claim tokens are 32 random bytes; the prefix makes them recognisable in configs and leak scanners. */
const TOKEN_PREFIX = 'abct_';

@Injectable()
export class ProvisioningService {
  private readonly logger = new Logger(ProvisioningService.name);

  constructor(
    @InjectRepository(ClaimToken) private readonly tokens: Repository<ClaimToken>,
    private readonly devices: DevicesService,
    @Inject(BROKER) private readonly broker: BrokerPort,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async createToken(request: ClaimTokenCreateRequest, createdBy: string): Promise<ClaimTokenCreated> {
    const token = `${TOKEN_PREFIX}${randomSecret(32)}`;
    const now = new Date();
    const row: ClaimToken = {
      id: randomUUID(),
      tokenHash: sha256Hex(token),
      expiresAt: new Date(now.getTime() + request.ttlHours * 3_600_000),
      maxUses: request.maxUses,
      uses: 0,
      note: request.note ?? null,
      createdBy,
      createdAt: now,
      revokedAt: null,
    };
    await this.tokens.insert(row);
    return {
      id: row.id,
      token,
      expiresAt: row.expiresAt.toISOString(),
      maxUses: row.maxUses,
      uses: 0,
      note: row.note,
    };
  }

  async listTokens(): Promise<ClaimTokenListResponse> {
    const rows = await this.tokens.find({ order: { createdAt: 'DESC' } });
    const now = Date.now();
    return { items: rows.map((row) => toClaimTokenDto(row, now)) };
  }

  async revokeToken(id: string): Promise<void> {
    const row = await this.tokens.findOneBy({ id });
    if (!row) throw new ProvisioningException('CLAIM_TOKEN_NOT_FOUND', id);
    if (row.revokedAt) return;
    await this.tokens.update({ id }, { revokedAt: new Date() });
  }

  /**
   * Enrols a box with a claim token: takes one use of the token, creates the device (or rotates the
   * secret of the device already enrolled with this hardware id) and hands out broker credentials.
   */
  async provision(request: ProvisionRequest): Promise<ProvisionResponse> {
    const token = await this.tokens.findOneBy({ tokenHash: sha256Hex(request.claimToken) });
    if (!token) throw new ProvisioningException('CLAIM_TOKEN_INVALID');
    this.assertUsable(token);
    // Conditional increment: concurrent claims can never take more than maxUses between them.
    const taken = await this.tokens
      .createQueryBuilder()
      .update(ClaimToken)
      .set({ uses: () => 'uses + 1' })
      .where('id = :id', { id: token.id })
      .andWhere('uses < max_uses')
      .andWhere('revoked_at IS NULL')
      .execute();
    if (!taken.affected) {
      const current = await this.tokens.findOneBy({ id: token.id });
      if (current) this.assertUsable(current);
      throw new ProvisioningException('CLAIM_TOKEN_EXHAUSTED');
    }
    const secret = randomSecret(32);
    let enrolled: { deviceId: string; created: boolean };
    try {
      enrolled = await this.devices.enroll(request.hardwareId, request.name, secret);
      await this.broker.upsertDeviceCredentials(enrolled.deviceId, secret);
    } catch (error) {
      // The box will retry with the same token: give back the use this failed attempt took.
      await this.tokens.decrement({ id: token.id }, 'uses', 1);
      throw error;
    }
    const { deviceId, created } = enrolled;
    this.logger.log(
      { deviceId, claimTokenId: token.id, created },
      created ? 'device enrolled' : 'device re-enrolled',
    );
    // The box has no identity of its own yet: the claim token it presented is who acted.
    await this.audit.record({
      actor: token.id,
      actorType: 'claim-token',
      actorId: token.id,
      action: created ? 'device.enrolled' : 'device.re-enrolled',
      targetType: 'device',
      targetId: deviceId,
      detail: { hardwareId: request.hardwareId, name: request.name ?? null, claimTokenNote: token.note },
    });
    return { deviceId, mqtt: { url: this.broker.publicUrl(), username: deviceId, password: secret } };
  }

  enrollment(host: string | undefined, protocol: string): EnrollmentInfo {
    const fleetUrl =
      this.config.publicUrl ?? (host ? `${protocol}://${host}` : `http://127.0.0.1:${this.config.httpPort}`);
    return { fleetUrl: fleetUrl.replace(/\/+$/, ''), mqttUrl: this.broker.publicUrl() };
  }

  private assertUsable(token: ClaimToken): void {
    if (token.revokedAt) throw new ProvisioningException('CLAIM_TOKEN_REVOKED');
    if (token.expiresAt.getTime() <= Date.now()) {
      throw new ProvisioningException('CLAIM_TOKEN_EXPIRED');
    }
    if (token.uses >= token.maxUses) throw new ProvisioningException('CLAIM_TOKEN_EXHAUSTED');
  }
}

function toClaimTokenDto(row: ClaimToken, now: number): ClaimTokenDto {
  const state = row.revokedAt
    ? 'revoked'
    : row.expiresAt.getTime() <= now
      ? 'expired'
      : row.uses >= row.maxUses
        ? 'exhausted'
        : 'active';
  return {
    id: row.id,
    expiresAt: row.expiresAt.toISOString(),
    maxUses: row.maxUses,
    uses: row.uses,
    note: row.note,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    state,
  };
}
