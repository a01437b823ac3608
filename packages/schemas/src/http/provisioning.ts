import { z } from 'zod';
import { DeviceIdSchema } from '../ids.js';
import { NameSchema } from '../names.js';
import { IsoTimestampSchema } from './common.js';

export const ClaimTokenCreateRequestSchema = z.object({
  ttlHours: z
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  maxUses: z.number().int().positive().max(100_000).default(1),
  note: z.string().max(200).optional(),
});
export type ClaimTokenCreateRequest = z.infer<typeof ClaimTokenCreateRequestSchema>;

/** Returned once, at creation: the only time the plaintext token is shown. */
export const ClaimTokenCreatedSchema = z.object({
  id: z.string(),
  token: z.string(),
  expiresAt: IsoTimestampSchema,
  maxUses: z.number().int(),
  uses: z.number().int(),
  note: z.string().nullable(),
});
export type ClaimTokenCreated = z.infer<typeof ClaimTokenCreatedSchema>;

export const CLAIM_TOKEN_STATES = ['active', 'expired', 'exhausted', 'revoked'] as const;

export const ClaimTokenDtoSchema = z.object({
  id: z.string(),
  expiresAt: IsoTimestampSchema,
  maxUses: z.number().int(),
  uses: z.number().int(),
  note: z.string().nullable(),
  createdBy: z.string(),
  createdAt: IsoTimestampSchema,
  revokedAt: IsoTimestampSchema.nullable(),
  state: z.enum(CLAIM_TOKEN_STATES),
});
export type ClaimTokenDto = z.infer<typeof ClaimTokenDtoSchema>;

export const ClaimTokenListResponseSchema = z.object({ items: z.array(ClaimTokenDtoSchema) });
export type ClaimTokenListResponse = z.infer<typeof ClaimTokenListResponseSchema>;

/** What the console's "Add box" dialog needs to print the enrolment command. */
export const EnrollmentInfoSchema = z.object({
  fleetUrl: z.string(),
  mqttUrl: z.string(),
});
export type EnrollmentInfo = z.infer<typeof EnrollmentInfoSchema>;

/** Stable across restarts and reinstalls of the agent: derived from /etc/machine-id unless overridden. */
export const HardwareIdSchema = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'hardware id may hold only A-Z, a-z, 0-9, ".", "_", ":" and "-"');

export const ProvisionRequestSchema = z.object({
  claimToken: z.string().min(16).max(200),
  hardwareId: HardwareIdSchema,
  name: NameSchema.optional(),
});
export type ProvisionRequest = z.infer<typeof ProvisionRequestSchema>;

export const ProvisionResponseSchema = z.object({
  deviceId: DeviceIdSchema,
  mqtt: z.object({
    url: z.string().min(1),
    username: DeviceIdSchema,
    password: z.string().min(16),
  }),
});
export type ProvisionResponse = z.infer<typeof ProvisionResponseSchema>;
