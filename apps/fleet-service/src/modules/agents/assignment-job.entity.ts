import { Entity, Index } from 'typeorm';
import type { AssignmentJobState } from '@agentbox/schemas';
import { Int, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';

/**
 * The delivery of one new assignment to the boxes it reaches, stored so that any replica can answer
 * `GET /assignment-jobs/{id}` while the replica that took the request does the work.
 */
@Entity('assignment_jobs')
@Index('idx_assignment_jobs_assignment', ['assignmentId'])
export class AssignmentJobRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(36) assignmentId!: string;
  @Varchar(63) agentId!: string;
  @Varchar(8) targetType!: 'device' | 'tag' | 'all';
  @Varchar(64) targetValue!: string;
  @Varchar(8) state!: AssignmentJobState;
  @Int() total!: number;
  @Int() done!: number;
  @Int() failed!: number;
  @Text({ nullable: true }) error!: string | null;
  @Timestamp() createdAt!: Date;

  /** Raised with every progress write and by a heartbeat: a running job not raised for long lost its replica. */
  @Timestamp() updatedAt!: Date;

  @Timestamp({ nullable: true }) finishedAt!: Date | null;
}
