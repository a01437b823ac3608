import type { ProviderDto } from '@agentbox/schemas';
import type { ProviderRow } from './provider.entity.js';

export function toProviderDto(row: ProviderRow): ProviderDto {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    baseUrl: row.baseUrl,
    models: row.models,
    version: row.version,
    hasApiKey: row.apiKey !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
