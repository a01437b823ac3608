import type { AuditEntryDto } from '@agentbox/schemas';
import type { AuditEntryRow } from './audit-entry.entity.js';

export interface AuditPage {
  items: AuditEntryDto[];
  /** Set when older entries match the same filters. */
  nextCursor: string | null;
}

export function toAuditEntryDto(row: AuditEntryRow): AuditEntryDto {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    actorType: row.actorType,
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    outcome: row.outcome,
    allowed: row.outcome !== 'denied',
    status: row.status,
    errorCode: row.errorCode,
    sourceAddress: row.sourceAddress,
    detail: row.detail,
  };
}
