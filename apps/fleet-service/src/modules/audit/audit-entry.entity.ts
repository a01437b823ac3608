import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';

/** One audited action: who did what to which release, rollout, root... and the particulars. */
@Entity('audit_log')
export class AuditEntryRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Milliseconds since the epoch; entries list newest first. */
  @Column({ type: 'bigint', transformer: bigintNumber })
  at!: number;

  /** The user's name, or `system` for what the service does by itself. */
  @Column({ type: 'varchar', length: 100 })
  actor!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'target_type', type: 'varchar', length: 32 })
  targetType!: string;

  @Column({ name: 'target_id', type: 'varchar', length: 100 })
  targetId!: string;

  @Column({ type: 'text', transformer: jsonTransformer })
  detail!: Record<string, unknown>;
}
