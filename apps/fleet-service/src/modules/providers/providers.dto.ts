import { z } from 'zod';
import { ProviderDefinitionSchema, ProviderIdSchema } from '@agentbox/schemas';
import type { ProviderRow } from './provider.entity.js';

const IsoTimestamp = z.iso.datetime();

/** A provider as the API returns it: whether it has a key, never the key. */
export const ProviderDtoSchema = z.object({
  id: ProviderIdSchema,
  name: z.string(),
  kind: ProviderDefinitionSchema.shape.kind,
  baseUrl: z.string(),
  models: z.array(z.string()),
  version: z.number().int().positive(),
  hasApiKey: z.boolean(),
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp,
});
export type ProviderDto = z.infer<typeof ProviderDtoSchema>;

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
