import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, In, Repository, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import {
  type AuditActorType,
  type AuditCursor,
  type AuditEntryDto,
  type AuditFilter,
  type AuditOutcome,
  type AuditQuery,
  type AuditTargetType,
  encodeAuditCursor,
} from '@agentbox/schemas';
import { AuditEntryRow } from './audit-entry.entity.js';
import { csvRow } from './audit-csv.js';
import { redactSecrets } from './audit-redaction.js';
import { currentRequestAudit, type RequestAuditContext } from './audit-request-context.js';
import { toAuditEntryDto, type AuditPage } from './audit.dto.js';

/** Who acted: a signed-in user's name, or `system` for the service's own decisions (the rollout engine). */
export const SYSTEM_ACTOR = 'system';
/** The actor of a request nobody could be identified for (a failed login, a missing token). */
export const ANONYMOUS_ACTOR = 'anonymous';

/** How a request ended, settled on its entries once its response is known. */
export interface AuditResult {
  outcome: AuditOutcome;
  status: number;
  errorCode: string | null;
}

export interface AuditRecord {
  /** The user's name, an API key's `abk_<id>`, `system`... */
  actor: string;
  /** Defaults to what the current request's bearer token proved, or `system` for SYSTEM_ACTOR. */
  actorType?: AuditActorType;
  actorId?: string | null;
  /** Dotted verb, e.g. `release.created`, `rollout.paused`. */
  action: string;
  /** One of AUDIT_TARGET_TYPES, or the resource a route names. */
  targetType: AuditTargetType | (string & {});
  targetId: string;
  detail?: Record<string, unknown>;
}

/** An entry complete with how it ended and where it came from. */
export type SettledAuditRecord = AuditRecord & AuditResult & { sourceAddress: string | null };

/** What is inserted: an entry recorded during a request has no status until the request ends. */
type InsertedAuditRecord = AuditRecord &
  Omit<AuditResult, 'status'> & { status: number | null; sourceAddress: string | null };

/** Rows read per query while exporting: memory stays flat however long the log. */
const EXPORT_PAGE_SIZE = 500;

/** The columns of the first exports first, so scripts reading them by position keep working. */
export const AUDIT_CSV_COLUMNS = [
  'at',
  'actor',
  'action',
  'target_type',
  'target_id',
  'detail',
  'actor_type',
  'actor_id',
  'outcome',
  'status',
  'error_code',
  'source_address',
] as const;

/**
 * The audit log, newest first: every mutating HTTP request and every login (request-audit.ts), with the
 * richer entries services record themselves (release.created, rollout.paused...) standing for their
 * request, and what the service does by itself (the rollout engine).
 */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEntryRow) private readonly entries: Repository<AuditEntryRow>) {}

  /**
   * Appends one entry; pass the transaction's manager to make it part of the change it records. Within
   * an HTTP request the entry takes the request's actor and address, stands for the request (no generic
   * entry is added) and gets its outcome once the response is known.
   */
  async record(entry: AuditRecord, manager?: EntityManager): Promise<AuditEntryDto> {
    const actor = actorOf(entry, currentRequestAudit());
    // What the service decides by itself (a rollout phase advancing) may happen during a request, but
    // is not that request: it neither takes the request's address nor stands for it.
    const context = actor.actorType === 'system' ? undefined : currentRequestAudit();
    const row = await this.insert(
      {
        ...entry,
        ...actor,
        outcome: 'success',
        status: null,
        errorCode: null,
        sourceAddress: context?.request.ip ?? null,
      },
      manager,
    );
    context?.recorded.push(row.id);
    return toAuditEntryDto(row);
  }

  /** Appends an entry whose outcome is known (a whole request, audited when its response goes out). */
  async recordSettled(entry: SettledAuditRecord): Promise<AuditEntryDto> {
    return toAuditEntryDto(await this.insert(entry));
  }

  /**
   * Gives the entries a request recorded its outcome; returns how many exist (an entry recorded in a
   * transaction that rolled back does not).
   */
  async settle(ids: string[], result: AuditResult): Promise<number> {
    if (ids.length === 0) return 0;
    const update = await this.entries.update(
      { id: In(ids) },
      { ...result, errorCode: clip(result.errorCode, 64) },
    );
    return update.affected ?? 0;
  }

  private async insert(entry: InsertedAuditRecord, manager?: EntityManager): Promise<AuditEntryRow> {
    // Values come from requests (route params, attempted user names): cut to the columns' lengths.
    const row: AuditEntryRow = {
      id: randomUUID(),
      at: Date.now(),
      actor: clip(entry.actor, 100),
      actorType: entry.actorType ?? 'user',
      actorId: clip(entry.actorId ?? null, 100),
      action: clip(entry.action, 64),
      targetType: clip(entry.targetType, 32),
      targetId: clip(entry.targetId, 100),
      outcome: entry.outcome,
      status: entry.status,
      errorCode: clip(entry.errorCode, 64),
      sourceAddress: clip(entry.sourceAddress, 64),
      detail: redactSecrets(entry.detail ?? {}) as Record<string, unknown>,
    };
    // The JSON column goes through its transformer; TypeORM types cannot express that.
    await (manager ? manager.getRepository(AuditEntryRow) : this.entries).insert(row as never);
    return row;
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
              row.actorType,
              row.actorId ?? '',
              row.outcome,
              row.status === null ? '' : String(row.status),
              row.errorCode ?? '',
              row.sourceAddress ?? '',
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
    if (filter.outcome !== undefined) qb.andWhere('entry.outcome = :outcome', filter);
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

function clip<T extends string | null>(value: T, length: number): T {
  return (value === null || value.length <= length ? value : value.slice(0, length)) as T;
}

/** The actor an entry names, typed: the request's bearer token tells a user from an API key. */
function actorOf(
  entry: AuditRecord,
  context: RequestAuditContext | undefined,
): { actorType: AuditActorType; actorId: string | null } {
  if (entry.actorType) return { actorType: entry.actorType, actorId: entry.actorId ?? null };
  if (entry.actor === SYSTEM_ACTOR) return { actorType: 'system', actorId: null };
  if (entry.actor === ANONYMOUS_ACTOR) return { actorType: 'anonymous', actorId: null };
  const user = context?.request.user;
  if (user && user.username === entry.actor) {
    return user.apiKey
      ? { actorType: 'api-key', actorId: user.apiKey.id }
      : { actorType: 'user', actorId: user.id };
  }
  return { actorType: 'user', actorId: entry.actorId ?? null };
}
