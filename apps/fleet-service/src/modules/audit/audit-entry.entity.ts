import { Entity } from 'typeorm';
import { Int64, Json, PrimaryVarchar, Varchar } from '../../database/columns.js';

/** One audited action: who did what to which release, rollout, root... and the particulars. */
@Entity('audit_log')
export class AuditEntryRow {
  @PrimaryVarchar(36) id!: string;

  /** Milliseconds since the epoch; entries list newest first. */
  @Int64() at!: number;

  /** The user's name, or `system` for what the service does by itself. */
  @Varchar(100) actor!: string;

  @Varchar(64) action!: string;
  @Varchar(32) targetType!: string;
  @Varchar(100) targetId!: string;
  @Json() detail!: Record<string, unknown>;
}
