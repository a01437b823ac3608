import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { UsageRecord } from '@agentbox/schemas';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';

/** One model call's token usage; the record id (from the box) makes replays count once. */
@Entity('usage_records')
@Index('idx_usage_records_ts', ['ts'])
@Index('idx_usage_records_agent_ts', ['agentId', 'ts'])
@Index('idx_usage_records_device_ts', ['deviceId', 'ts'])
export class UsageRecordRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 63 })
  agentId!: string;

  @Column({ name: 'run_id', type: 'varchar', length: 64, nullable: true })
  runId!: string | null;

  @Column({ type: 'varchar', length: 63 })
  provider!: string;

  @Column({ type: 'varchar', length: 200 })
  model!: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  ts!: number;

  @Column({ name: 'input_tokens', type: 'bigint', transformer: bigintNumber })
  inputTokens!: number;

  @Column({ name: 'output_tokens', type: 'bigint', transformer: bigintNumber })
  outputTokens!: number;

  @Column({ type: Boolean })
  estimated!: boolean;

  @Column({ type: 'varchar', length: 8 })
  outcome!: UsageRecord['outcome'];
}
