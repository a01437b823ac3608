import type { ApiKeyDto } from '@agentbox/schemas';
import { apiKeyPrefix } from './api-key-token.js';
import type { ApiKey } from './api-key.entity.js';

export function toApiKeyDto(row: ApiKey, now = Date.now()): ApiKeyDto {
  const status = row.revokedAt
    ? 'revoked'
    : row.expiresAt && row.expiresAt.getTime() <= now
      ? 'expired'
      : 'active';
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: apiKeyPrefix(row.id),
    status,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedBy: row.revokedBy,
  };
}
