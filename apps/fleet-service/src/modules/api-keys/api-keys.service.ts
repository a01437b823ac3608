import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  type ApiKeyCreatedDto,
  type ApiKeyCreateRequest,
  type ApiKeyDto,
  type ApiKeyListResponse,
  type UserRole,
  roleAtLeast,
  USER_ROLES,
} from '@agentbox/schemas';
import { AuditService } from '../audit/audit.service.js';
import type { AuthUser } from '../auth/auth.decorators.js';
import { User } from '../auth/user.entity.js';
import { apiKeyHashMatches, apiKeyIdOf, apiKeyPrefix, generateApiKeyToken } from './api-key-token.js';
import { ApiKey } from './api-key.entity.js';
import { toApiKeyDto } from './api-keys.dto.js';
import { ApiKeyException } from './api-keys.exception.js';

/** `last_used_at` is written at most this often per key, so a busy script does not write on every call. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const INVALID_MESSAGE = 'Invalid API key';

/** API keys: created and revoked by signed-in admins, used as `Authorization: Bearer abk_...`. */
@Injectable()
export class ApiKeysService {
  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly audit: AuditService,
  ) {}

  async create(request: ApiKeyCreateRequest, creator: AuthUser): Promise<ApiKeyCreatedDto> {
    if (!roleAtLeast(creator.role, request.role)) {
      throw new ApiKeyException(
        'API_KEY_ROLE_TOO_HIGH',
        `A key may not have a role above yours (${creator.role})`,
      );
    }
    const now = new Date();
    const expiresAt = request.expiresAt === undefined ? null : new Date(request.expiresAt);
    if (expiresAt && expiresAt.getTime() <= now.getTime()) {
      throw new ApiKeyException('API_KEY_EXPIRY_PAST', 'expiresAt must be in the future');
    }
    const { id, token, hash } = generateApiKeyToken();
    const row: ApiKey = {
      id,
      name: request.name,
      role: request.role,
      secretHash: hash,
      createdBy: creator.username,
      createdById: creator.id,
      createdAt: now,
      expiresAt,
      lastUsedAt: null,
      revokedAt: null,
      revokedBy: null,
    };
    await this.keys.manager.transaction(async (manager) => {
      await manager.getRepository(ApiKey).insert(row);
      await this.audit.record(
        {
          actor: creator.username,
          action: 'api-key.created',
          targetType: 'api-key',
          targetId: id,
          detail: { name: row.name, role: row.role, expiresAt: expiresAt?.toISOString() ?? null },
        },
        manager,
      );
    });
    return { ...toApiKeyDto(row, now.getTime()), secret: token };
  }

  async list(): Promise<ApiKeyListResponse> {
    const rows = await this.keys.find({ order: { createdAt: 'DESC', id: 'ASC' } });
    const now = Date.now();
    return { items: rows.map((row) => toApiKeyDto(row, now)) };
  }

  /** Revoking twice is a no-op: the first revocation (and its audit entry) stands. */
  async revoke(id: string, actor: AuthUser): Promise<ApiKeyDto> {
    return this.keys.manager.transaction(async (manager) => {
      const repository = manager.getRepository(ApiKey);
      const row = await repository.findOneBy({ id });
      if (!row) {
        throw new ApiKeyException('API_KEY_NOT_FOUND', `API key ${apiKeyPrefix(id)} not found`);
      }
      if (row.revokedAt) return toApiKeyDto(row);
      row.revokedAt = new Date();
      row.revokedBy = actor.username;
      await repository.update({ id }, { revokedAt: row.revokedAt, revokedBy: row.revokedBy });
      await this.audit.record(
        {
          actor: actor.username,
          action: 'api-key.revoked',
          targetType: 'api-key',
          targetId: id,
          detail: { name: row.name, role: row.role },
        },
        manager,
      );
      return toApiKeyDto(row);
    });
  }

  /**
   * The caller behind a key. It acts with the key's role, capped by its creator's current role, and
   * stops working when the creator is deleted or disabled, as the creator's own sessions do.
   */
  async authenticate(token: string): Promise<AuthUser> {
    const id = apiKeyIdOf(token);
    const row = id === null ? null : await this.keys.findOneBy({ id });
    if (!row || !apiKeyHashMatches(row.secretHash, token)) {
      throw new ApiKeyException('API_KEY_INVALID', INVALID_MESSAGE);
    }
    const now = new Date();
    const creator = await this.usableCreator(row, now);
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      await this.keys.update({ id: row.id }, { lastUsedAt: now });
    }
    return {
      id: row.id,
      username: apiKeyPrefix(row.id),
      role: lowerRole(row.role, creator.role),
      apiKey: { id: row.id, name: row.name },
    };
  }

  /** Whether a key that authenticated earlier still works, by the same checks as `authenticate`. */
  async stillActive(id: string): Promise<boolean> {
    const row = await this.keys.findOneBy({ id });
    if (!row) return false;
    try {
      await this.usableCreator(row, new Date());
      return true;
    } catch (error) {
      if (error instanceof ApiKeyException) return false;
      throw error;
    }
  }

  /** The key's creator, once the key is neither revoked nor expired and its creator exists and is enabled. */
  private async usableCreator(row: ApiKey, now: Date): Promise<User> {
    const prefix = apiKeyPrefix(row.id);
    if (row.revokedAt) {
      throw new ApiKeyException(
        'API_KEY_REVOKED',
        `API key ${prefix} ("${row.name}") was revoked at ${row.revokedAt.toISOString()}; create a new key`,
      );
    }
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) {
      throw new ApiKeyException(
        'API_KEY_EXPIRED',
        `API key ${prefix} ("${row.name}") expired at ${row.expiresAt.toISOString()}; create a new key`,
      );
    }
    const creator = await this.users.findOneBy({ id: row.createdById });
    if (!creator) {
      throw new ApiKeyException(
        'API_KEY_INVALID',
        `API key ${prefix} belonged to a user who no longer exists`,
      );
    }
    if (creator.disabledAt) {
      throw new ApiKeyException(
        'API_KEY_INVALID',
        `API key ${prefix} belongs to ${creator.username}, who is disabled`,
      );
    }
    return creator;
  }
}

function lowerRole(a: UserRole, b: UserRole): UserRole {
  return USER_ROLES[Math.min(USER_ROLES.indexOf(a), USER_ROLES.indexOf(b))] ?? 'viewer';
}
