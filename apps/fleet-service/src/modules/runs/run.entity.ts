import { Entity, Index } from 'typeorm';
import type { RunRecord, RunStatus } from '@agentbox/schemas';
import { Int, Int64, Json, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';

/** A run's summary as its box last reported it; times are epoch ms as the box measured them. */
@Entity('runs')
@Index('idx_runs_created_at', ['createdAt'])
@Index('idx_runs_device_created_at', ['deviceId', 'createdAt'])
@Index('idx_runs_agent_created_at', ['agentId', 'createdAt'])
export class RunRow {
  @PrimaryVarchar(64) id!: string;
  @Varchar(64) deviceId!: string;
  @Varchar(63) agentId!: string;
  @Int() agentVersion!: number;
  @Json({ name: 'run_trigger' }) trigger!: RunRecord['trigger'];
  @Varchar(20) status!: RunStatus;
  @Text({ nullable: true }) input!: string | null;
  @Text({ nullable: true }) output!: string | null;
  @Text({ nullable: true }) error!: string | null;
  @Int64() createdAt!: number;
  @Int64({ nullable: true }) startedAt!: number | null;
  @Int64({ nullable: true }) endedAt!: number | null;
  @Int() steps!: number;
  @Int64() inputTokens!: number;
  @Int64() outputTokens!: number;
  @Timestamp() updatedAt!: Date;
}
