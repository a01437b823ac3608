import { Entity, Index } from 'typeorm';
import { PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

/** One agent assigned to a box, to every box with a tag, or to every box. */
@Entity('assignments')
@Index('uq_assignments_agent_target', ['agentId', 'targetType', 'targetValue'], { unique: true })
export class AssignmentRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(63) agentId!: string;
  @Varchar(8) targetType!: 'device' | 'tag' | 'all';

  /** The device id or tag; '' for every box. */
  @Varchar(64) targetValue!: string;

  @Timestamp() createdAt!: Date;
}
