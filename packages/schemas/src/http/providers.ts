import { z } from 'zod';
import { ProviderDefinitionSchema, ProviderIdSchema } from '../agents.js';
import { NameSchema } from '../names.js';
import { IsoTimestampSchema } from './common.js';

export const ProviderCreateRequestSchema = ProviderDefinitionSchema.extend({
  id: ProviderIdSchema,
  name: NameSchema,
  /** Write-only: stored encrypted, sealed per box on delivery, never returned. */
  apiKey: z.string().min(1).max(4_096).optional(),
});
export type ProviderCreateRequest = z.input<typeof ProviderCreateRequestSchema>;

export const ProviderUpdateRequestSchema = z.object({
  // No defaults here: a field left out keeps its stored value.
  name: NameSchema.optional(),
  kind: z.literal('openai-compatible').optional(),
  baseUrl: ProviderDefinitionSchema.shape.baseUrl.optional(),
  models: z.array(z.string().min(1).max(200)).max(100).optional(),
  /** A new key replaces the stored one; `null` removes it; absent keeps it. */
  apiKey: z.string().min(1).max(4_096).nullable().optional(),
});
export type ProviderUpdateRequest = z.input<typeof ProviderUpdateRequestSchema>;

/** A provider as the API returns it: whether it has a key, never the key. */
export const ProviderDtoSchema = z.object({
  id: ProviderIdSchema,
  name: z.string(),
  kind: ProviderDefinitionSchema.shape.kind,
  baseUrl: z.string(),
  models: z.array(z.string()),
  version: z.number().int().positive(),
  hasApiKey: z.boolean(),
  createdAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
});
export type ProviderDto = z.infer<typeof ProviderDtoSchema>;
