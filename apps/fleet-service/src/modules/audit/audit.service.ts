import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, Repository, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import {
  type AuditCursor,
  type AuditEntryDto,
  type AuditFilter,
  type AuditQuery,
  type AuditTargetType,
  encodeAuditCursor,
} from '@agentbox/schemas';
import { AuditEntryRow } from './audit-entry.entity.js';
import { csvRow } from './audit-csv.js';
import { toAuditEntryDto, type AuditPage } from './audit.dto.js';

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

/** Rows read per query while exporting: memory stays flat however long the log. */
const EXPORT_PAGE_SIZE = 500;

export const AUDIT_CSV_COLUMNS = ['at', 'actor', 'action', 'target_type', 'target_id', 'detail'] as const;

/** The audit log: every release, root, rollout and API key action, newest first. */
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

  async list(query: AuditQuery): Promise<AuditPage> {
    // One more than asked tells whether another page exists.
    const rows = await this.page(query, query.cursor, query.limit + 1);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toAuditEntryDto),
      nextCursor: rows.length > query.limit && last ? encodeAuditCursor(last) : null,
    };
  }

  /** The matching entries as CSV, newest first, read page by page as the consumer pulls. */
  async *exportCsv(filter: AuditFilter): AsyncGenerator<string> {
    // A UTF-8 byte order mark: without it spreadsheet programs guess a legacy code page and garble
    // non-ASCII names (Chinese box or agent names). CSV readers that expect none skip it.
    yield '\uFEFF' + csvRow(AUDIT_CSV_COLUMNS);
    let cursor: AuditCursor | undefined;
    for (;;) {
      const rows = await this.page(filter, cursor, EXPORT_PAGE_SIZE);
      if (rows.length > 0) {
        yield rows
          .map((row) =>
            csvRow([
              new Date(row.at).toISOString(),
              row.actor,
              row.action,
              row.targetType,
              row.targetId,
              JSON.stringify(row.detail),
            ]),
          )
          .join('');
      }
      const last = rows[rows.length - 1];
      if (rows.length < EXPORT_PAGE_SIZE || !last) return;
      cursor = { at: last.at, id: last.id };
    }
  }

  private page(filter: AuditFilter, cursor: AuditCursor | undefined, take: number): Promise<AuditEntryRow[]> {
    const qb = this.filtered(filter);
    if (cursor) {
      qb.andWhere(
        new Brackets((where) => {
          where
            .where('entry.at < :cursorAt', { cursorAt: cursor.at })
            .orWhere('entry.at = :cursorAt AND entry.id < :cursorId', { cursorId: cursor.id });
        }),
      );
    }
    return qb.orderBy('entry.at', 'DESC').addOrderBy('entry.id', 'DESC').limit(take).getMany();
  }

  private filtered(filter: AuditFilter): SelectQueryBuilder<AuditEntryRow> {
    const qb = this.entries.createQueryBuilder('entry');
    if (filter.targetType !== undefined) qb.andWhere('entry.targetType = :targetType', filter);
    if (filter.targetId !== undefined) qb.andWhere('entry.targetId = :targetId', filter);
    if (filter.actor !== undefined) qb.andWhere('entry.actor = :actor', filter);
    if (filter.action !== undefined) {
      if (filter.action.endsWith('*')) {
        const prefix = filter.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`);
        qb.andWhere(`entry.action LIKE :actionPrefix ESCAPE '\\'`, { actionPrefix: `${prefix}%` });
      } else {
        qb.andWhere('entry.action = :action', filter);
      }
    }
    if (filter.from !== undefined) qb.andWhere('entry.at >= :fromMs', { fromMs: Date.parse(filter.from) });
    if (filter.to !== undefined) qb.andWhere('entry.at < :toMs', { toMs: Date.parse(filter.to) });
    if (filter.before !== undefined) qb.andWhere('entry.at < :before', filter);
    return qb;
  }
}
