import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { AuditEntryRow } from './audit-entry.entity.js';
import { toAuditEntryDto, type AuditEntryDto, type AuditQuery, type AuditTargetType } from './audit.dto.js';

/** Who acted: a signed-in user's name, or `system` for the service's own decisions (the rollout engine). */
export const SYSTEM_ACTOR = 'system';

export interface AuditRecord {
  actor: string;
  /** Dotted verb, e.g. `release.created`, `rollout.paused`. */
  action: string;
  targetType: AuditTargetType;
  targetId: string;
  detail?: Record<string, unknown>;
}

/** The audit log: every release, root and rollout action, newest first. */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEntryRow) private readonly entries: Repository<AuditEntryRow>) {}

  /** Appends one entry; pass the transaction's manager to make it part of the change it records. */
  async record(entry: AuditRecord, manager?: EntityManager): Promise<AuditEntryDto> {
    const row: AuditEntryRow = {
      id: randomUUID(),
      at: Date.now(),
      actor: entry.actor,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      detail: entry.detail ?? {},
    };
    // The JSON column goes through its transformer; TypeORM types cannot express that.
    await (manager ? manager.getRepository(AuditEntryRow) : this.entries).insert(row as never);
    return toAuditEntryDto(row);
  }

  async list(query: AuditQuery): Promise<AuditEntryDto[]> {
    const where: FindOptionsWhere<AuditEntryRow> = {};
    if (query.targetType !== undefined) where.targetType = query.targetType;
    if (query.targetId !== undefined) where.targetId = query.targetId;
    if (query.action !== undefined) where.action = query.action;
    if (query.before !== undefined) where.at = LessThan(query.before);
    const rows = await this.entries.find({ where, order: { at: 'DESC', id: 'DESC' }, take: query.limit });
    return rows.map(toAuditEntryDto);
  }
}
