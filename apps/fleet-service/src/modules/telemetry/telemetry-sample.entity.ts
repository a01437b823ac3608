import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { jsonTransformer } from '../../database/json-column.js';

/** PostgreSQL hands bigint back as a string; every value stored here is below 2^53. */
export const bigintNumber: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (value === null || value === undefined ? value : Number(value)),
};

/** One telemetry sample of one box; (deviceId, seq, idx) makes QoS 1 redeliveries idempotent. */
@Entity('telemetry_samples')
@Index('idx_telemetry_samples_device_ts', ['deviceId', 'ts'])
export class TelemetrySampleRow {
  @PrimaryColumn({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  /** The message's per-device sequence number. */
  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber })
  seq!: number;

  /** Index of the sample inside its message. */
  @PrimaryColumn({ type: 'integer' })
  idx!: number;

  /** Sample time, milliseconds since the Unix epoch (as the box measured it). */
  @Column({ type: 'bigint', transformer: bigintNumber })
  ts!: number;

  @Column({ type: 'text', transformer: jsonTransformer })
  values!: Record<string, number>;
}
