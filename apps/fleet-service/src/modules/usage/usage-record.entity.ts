import { Column, Entity, Index } from 'typeorm';
import type { UsageRecord } from '@agentbox/schemas';
import { Int64, PrimaryVarchar, Varchar } from '../../database/columns.js';

/** One model call's token usage; the record id (from the box) makes replays count once. */
@Entity('usage_records')
@Index('idx_usage_records_ts', ['ts'])
@Index('idx_usage_records_agent_ts', ['agentId', 'ts'])
@Index('idx_usage_records_device_ts', ['deviceId', 'ts'])
export class UsageRecordRow {
  @PrimaryVarchar(64) id!: string;
  @Varchar(64) deviceId!: string;
  @Varchar(63) agentId!: string;
  @Varchar(64, { nullable: true }) runId!: string | null;
  @Varchar(63) provider!: string;
  @Varchar(200) model!: string;
  @Int64() ts!: number;
  @Int64() inputTokens!: number;
  @Int64() outputTokens!: number;

  @Column({ type: Boolean })
  estimated!: boolean;

  @Varchar(8) outcome!: UsageRecord['outcome'];
}
