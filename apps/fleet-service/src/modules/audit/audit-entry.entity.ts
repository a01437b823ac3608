import { Entity } from 'typeorm';
import type { AuditActorType, AuditOutcome } from '@agentbox/schemas';
import { Int, Int64, Json, PrimaryVarchar, Varchar } from '../../database/columns.js';

/** One audited action: who did what to which target, how it ended, from where, and the particulars. */
@Entity('audit_log')
export class AuditEntryRow {
  @PrimaryVarchar(36) id!: string;

  /** Milliseconds since the epoch; entries list newest first. */
  @Int64() at!: number;

  /** The user's name, an API key's `abk_<id>`, a claim token's id, `system` or `anonymous`. */
  @Varchar(100) actor!: string;

  @Varchar(16, { default: 'user' }) actorType!: AuditActorType;
  @Varchar(100, { nullable: true }) actorId!: string | null;

  @Varchar(64) action!: string;
  @Varchar(32) targetType!: string;
  @Varchar(100) targetId!: string;

  @Varchar(16, { default: 'success' }) outcome!: AuditOutcome;
  /** The HTTP status of the request behind the entry; null for what the service did by itself. */
  @Int({ nullable: true }) status!: number | null;
  @Varchar(64, { nullable: true }) errorCode!: string | null;
  @Varchar(64, { nullable: true }) sourceAddress!: string | null;

  @Json() detail!: Record<string, unknown>;
}
