import { z } from 'zod';
import { NameSchema } from '../names.js';
import { UserRoleSchema } from './auth.js';

export const API_KEY_STATUSES = ['active', 'expired', 'revoked'] as const;

export const ApiKeyCreateRequestSchema = z.object({
  name: NameSchema,
  role: UserRoleSchema,
  /** No expiry when left out. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
export type ApiKeyCreateRequest = z.output<typeof ApiKeyCreateRequestSchema>;

export const ApiKeyDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: UserRoleSchema,
  /** The public part of the key, `abk_<id>`: enough to recognise it, useless to authenticate. */
  prefix: z.string(),
  status: z.enum(API_KEY_STATUSES),
  createdAt: z.iso.datetime(),
  createdBy: z.string(),
  expiresAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  revokedBy: z.string().nullable(),
});
export type ApiKeyDto = z.infer<typeof ApiKeyDtoSchema>;

export const ApiKeyListResponseSchema = z.object({ items: z.array(ApiKeyDtoSchema) });
export type ApiKeyListResponse = z.infer<typeof ApiKeyListResponseSchema>;

export const ApiKeyCreatedDtoSchema = ApiKeyDtoSchema.extend({
  /** The whole key, `abk_<id>_<secret>`: returned by this response only, never again. */
  secret: z.string(),
});
export type ApiKeyCreatedDto = z.infer<typeof ApiKeyCreatedDtoSchema>;

export const ApiKeyIdSchema = z.string().regex(/^[a-z2-7]{12}$/, 'not an API key id');
