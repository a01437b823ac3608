import { Entity, Index } from 'typeorm';
import { Int64, Json, PrimaryInt, PrimaryInt64, PrimaryVarchar, Varchar } from '../../database/columns.js';

/** One event a box reported on `up/events`; kept as long as telemetry (retention job). */
@Entity('device_events')
@Index('idx_device_events_device_ts', ['deviceId', 'ts'])
export class DeviceEventRow {
  @PrimaryVarchar(64) deviceId!: string;
  @PrimaryInt64() seq!: number;
  @PrimaryInt() idx!: number;
  @Int64() ts!: number;
  @Varchar(100) type!: string;
  @Varchar(8) level!: string;
  @Varchar(2000) message!: string;
  @Json({ nullable: true }) data!: Record<string, unknown> | null;
}
