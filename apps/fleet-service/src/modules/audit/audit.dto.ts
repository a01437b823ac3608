import { z } from 'zod';
import type { AuditEntryRow } from './audit-entry.entity.js';

export const AUDIT_TARGET_TYPES = ['release', 'ota-root', 'rollout', 'device'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

export const AuditEntryDtoSchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEntryDto = z.infer<typeof AuditEntryDtoSchema>;

export const AuditQuerySchema = z.object({
  targetType: z.string().min(1).max(32).optional(),
  targetId: z.string().min(1).max(100).optional(),
  action: z.string().min(1).max(64).optional(),
  /** Only entries older than this instant (ms since the epoch): the next page. */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
export type AuditQuery = z.output<typeof AuditQuerySchema>;

export function toAuditEntryDto(row: AuditEntryRow): AuditEntryDto {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    detail: row.detail,
  };
}
