import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { RunRecord, RunStatus } from '@agentbox/schemas';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';

/** A run's summary as its box last reported it; times are epoch ms as the box measured them. */
@Entity('runs')
@Index('idx_runs_created_at', ['createdAt'])
@Index('idx_runs_device_created_at', ['deviceId', 'createdAt'])
@Index('idx_runs_agent_created_at', ['agentId', 'createdAt'])
export class RunRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 63 })
  agentId!: string;

  @Column({ name: 'agent_version', type: 'integer' })
  agentVersion!: number;

  @Column({ name: 'run_trigger', type: 'text', transformer: jsonTransformer })
  trigger!: RunRecord['trigger'];

  @Column({ type: 'varchar', length: 20 })
  status!: RunStatus;

  @Column({ type: 'text', nullable: true })
  input!: string | null;

  @Column({ type: 'text', nullable: true })
  output!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'started_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  startedAt!: number | null;

  @Column({ name: 'ended_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  endedAt!: number | null;

  @Column({ type: 'integer' })
  steps!: number;

  @Column({ name: 'input_tokens', type: 'bigint', transformer: bigintNumber })
  inputTokens!: number;

  @Column({ name: 'output_tokens', type: 'bigint', transformer: bigintNumber })
  outputTokens!: number;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
