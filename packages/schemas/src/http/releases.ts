import { z } from 'zod';
import {
  ARCHITECTURES,
  RELEASE_CHANNELS,
  SemverSchema,
  Sha256Schema,
  SignedReleaseSchema,
  SignedRootSchema,
} from '../ota.js';
import { IsoTimestampSchema } from './common.js';

/** `awaiting-artifact` until the bundle is uploaded and matches the manifest. */
export const RELEASE_STATUSES = ['awaiting-artifact', 'ready'] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export const ReleaseIdSchema = z.uuid();

export const ReleaseDtoSchema = z.object({
  id: z.string(),
  version: SemverSchema,
  channel: z.enum(RELEASE_CHANNELS),
  /** `awaiting-artifact` until the bundle is uploaded and matches the manifest. */
  status: z.enum(RELEASE_STATUSES),
  artifact: z.object({ name: z.string(), size: z.number().int(), sha256: Sha256Schema }),
  compatibility: z.object({
    arch: z.array(z.enum(ARCHITECTURES)),
    minCurrentVersion: SemverSchema.optional(),
  }),
  notes: z.string(),
  rollbackTarget: z.boolean(),
  createdAt: IsoTimestampSchema,
  expires: z.string(),
  /** Key ids that signed the manifest. */
  signedBy: z.array(z.string()),
  uploadedBy: z.string(),
  uploadedAt: IsoTimestampSchema,
  updatedAt: IsoTimestampSchema,
});
export type ReleaseDto = z.infer<typeof ReleaseDtoSchema>;

export const ReleaseDetailDtoSchema = ReleaseDtoSchema.extend({ manifest: SignedReleaseSchema });
export type ReleaseDetailDto = z.infer<typeof ReleaseDetailDtoSchema>;

export const ReleaseListQuerySchema = z.object({
  channel: z.enum(RELEASE_CHANNELS).optional(),
  status: z.enum(RELEASE_STATUSES).optional(),
});
export type ReleaseListQuery = z.output<typeof ReleaseListQuerySchema>;

export const OtaRootDtoSchema = z.object({
  version: z.number().int(),
  expires: z.string(),
  /** `file` (AGENTBOX_OTA_ROOT_FILE) or `upload`. */
  source: z.string(),
  installedBy: z.string(),
  installedAt: IsoTimestampSchema,
  document: SignedRootSchema,
});
