import { z } from 'zod';

const IsoTimestamp = z.iso.datetime();

/** Returned once, at creation: the only time the plaintext token is shown. */
export const ClaimTokenCreatedSchema = z.object({
  id: z.string(),
  token: z.string(),
  expiresAt: IsoTimestamp,
  maxUses: z.number().int(),
  uses: z.number().int(),
  note: z.string().nullable(),
});
export type ClaimTokenCreated = z.infer<typeof ClaimTokenCreatedSchema>;

export const CLAIM_TOKEN_STATES = ['active', 'expired', 'exhausted', 'revoked'] as const;

export const ClaimTokenDtoSchema = z.object({
  id: z.string(),
  expiresAt: IsoTimestamp,
  maxUses: z.number().int(),
  uses: z.number().int(),
  note: z.string().nullable(),
  createdBy: z.string(),
  createdAt: IsoTimestamp,
  revokedAt: IsoTimestamp.nullable(),
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
