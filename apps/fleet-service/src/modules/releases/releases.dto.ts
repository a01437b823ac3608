import { ReleaseManifestSchema, type ReleaseDetailDto, type ReleaseDto } from '@agentbox/schemas';
import type { ReleaseRow } from './release.entity.js';

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
