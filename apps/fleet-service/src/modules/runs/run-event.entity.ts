import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { RunEvent } from '@agentbox/schemas';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';

/** One step of a run; (runId, idx) keeps each step once however often the box resends it. */
@Entity('run_events')
export class RunEventRow {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 64 })
  runId!: string;

  @PrimaryColumn({ type: 'integer' })
  idx!: number;

  @Column({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  @Column({ name: 'agent_id', type: 'varchar', length: 63 })
  agentId!: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  ts!: number;

  @Column({ type: 'varchar', length: 16 })
  type!: RunEvent['type'];

  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  data!: unknown;

  @Column({ name: 'input_tokens', type: 'integer', nullable: true })
  inputTokens!: number | null;

  @Column({ name: 'output_tokens', type: 'integer', nullable: true })
  outputTokens!: number | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;
}
