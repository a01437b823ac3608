import { z } from 'zod';
import {
  ARCHITECTURES,
  RELEASE_CHANNELS,
  ReleaseManifestSchema,
  SemverSchema,
  Sha256Schema,
  SignedReleaseSchema,
  SignedRootSchema,
} from '@agentbox/schemas';
import { RELEASE_STATUSES, type ReleaseRow } from './release.entity.js';

const IsoTimestamp = z.iso.datetime();

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
  createdAt: IsoTimestamp,
  expires: z.string(),
  /** Key ids that signed the manifest. */
  signedBy: z.array(z.string()),
  uploadedBy: z.string(),
  uploadedAt: IsoTimestamp,
  updatedAt: IsoTimestamp,
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
  installedAt: IsoTimestamp,
  document: SignedRootSchema,
});

export function toReleaseDto(row: ReleaseRow): ReleaseDto {
  // Stored as received, so fields left to their defaults are filled in here.
  const manifest = ReleaseManifestSchema.parse(row.manifest.signed);
  return {
    id: row.id,
    version: row.version,
    channel: manifest.channel,
    status: row.status,
    artifact: { ...manifest.artifact },
    compatibility: {
      arch: [...manifest.compatibility.arch],
      ...(manifest.compatibility.minCurrentVersion !== undefined
        ? { minCurrentVersion: manifest.compatibility.minCurrentVersion }
        : {}),
    },
    notes: manifest.notes,
    rollbackTarget: manifest.rollbackTarget,
    createdAt: manifest.createdAt,
    expires: manifest.expires,
    signedBy: row.manifest.signatures.map((signature) => signature.keyid),
    uploadedBy: row.createdBy,
    uploadedAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toReleaseDetailDto(row: ReleaseRow): ReleaseDetailDto {
  return { ...toReleaseDto(row), manifest: row.manifest };
}
