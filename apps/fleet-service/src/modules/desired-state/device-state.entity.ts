import { Column, Entity, PrimaryColumn } from 'typeorm';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';

/** A box's desired document (versioned, what the cloud wants) and the state it last reported. */
@Entity('device_states')
export class DeviceStateRow {
  @PrimaryColumn({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  @Column({ name: 'desired_version', type: 'integer' })
  desiredVersion!: number;

  @Column({ name: 'desired_spec', type: 'text', transformer: jsonTransformer })
  desiredSpec!: Record<string, unknown>;

  @Column({ name: 'desired_at', type: Date })
  desiredAt!: Date;

  /** What the agents and providers sections were composed from; unchanged inputs publish nothing new. */
  @Column({ name: 'agents_fingerprint', type: 'varchar', length: 64, nullable: true })
  agentsFingerprint!: string | null;

  /** Sequence number of the report stored, so an older or redelivered report never overwrites a newer one. */
  @Column({ name: 'reported_seq', type: 'bigint', nullable: true, transformer: bigintNumber })
  reportedSeq!: number | null;

  @Column({ name: 'reported_version', type: 'integer', nullable: true })
  reportedVersion!: number | null;

  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  reported!: Record<string, unknown> | null;

  @Column({ name: 'reported_at', type: Date, nullable: true })
  reportedAt!: Date | null;
}
