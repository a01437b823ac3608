import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from './telemetry-sample.entity.js';

/** One event a box reported on `up/events`; kept as long as telemetry (retention job). */
@Entity('device_events')
@Index('idx_device_events_device_ts', ['deviceId', 'ts'])
export class DeviceEventRow {
  @PrimaryColumn({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber })
  seq!: number;

  @PrimaryColumn({ type: 'integer' })
  idx!: number;

  @Column({ type: 'bigint', transformer: bigintNumber })
  ts!: number;

  @Column({ type: 'varchar', length: 100 })
  type!: string;

  @Column({ type: 'varchar', length: 8 })
  level!: string;

  @Column({ type: 'varchar', length: 2000 })
  message!: string;

  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  data!: Record<string, unknown> | null;
}
