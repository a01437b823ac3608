import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One agent assigned to a box, to every box with a tag, or to every box. */
@Entity('assignments')
@Index('uq_assignments_agent_target', ['agentId', 'targetType', 'targetValue'], { unique: true })
export class AssignmentRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 63 })
  agentId!: string;

  @Column({ name: 'target_type', type: 'varchar', length: 8 })
  targetType!: 'device' | 'tag' | 'all';

  /** The device id or tag; '' for every box. */
  @Column({ name: 'target_value', type: 'varchar', length: 64 })
  targetValue!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;
}
