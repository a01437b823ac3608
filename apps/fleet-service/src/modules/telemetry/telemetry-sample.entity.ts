import { Entity, Index } from 'typeorm';
import { Int64, Json, PrimaryInt, PrimaryInt64, PrimaryVarchar } from '../../database/columns.js';

/** One telemetry sample of one box; (deviceId, seq, idx) makes QoS 1 redeliveries idempotent. */
@Entity('telemetry_samples')
@Index('idx_telemetry_samples_device_ts', ['deviceId', 'ts'])
export class TelemetrySampleRow {
  @PrimaryVarchar(64) deviceId!: string;

  /** The message's per-device sequence number. */
  @PrimaryInt64() seq!: number;

  /** Index of the sample inside its message. */
  @PrimaryInt() idx!: number;

  /** Sample time, milliseconds since the Unix epoch (as the box measured it). */
  @Int64() ts!: number;

  @Json() values!: Record<string, number>;
}
