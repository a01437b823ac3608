import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type PauseReason, type RolloutSettings, type RolloutStatus } from '@agentbox/schemas';
import { jsonTransformer } from '../../database/json-column.js';
import { bigintNumber } from '../telemetry/telemetry-sample.entity.js';
import type { BoxStatus, PhaseBounds } from './rollout-engine.js';

/** A rollout of one release to a fixed set of boxes, and where the engine stands with it. */
@Entity('rollouts')
export class RolloutRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'release_id', type: 'varchar', length: 36 })
  releaseId!: string;

  @Column({ name: 'release_version', type: 'varchar', length: 64 })
  releaseVersion!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: RolloutStatus;

  @Column({ name: 'pause_reason', type: 'varchar', length: 24, nullable: true })
  pauseReason!: PauseReason | null;

  @Column({ type: 'integer' })
  phase!: number;

  /** Cumulative phase ends over the target list, fixed at creation. */
  @Column({ type: 'text', transformer: jsonTransformer })
  phases!: PhaseBounds[];

  /** What the operator asked for (targets, phases, thresholds, policy). */
  @Column({ type: 'text', transformer: jsonTransformer })
  settings!: RolloutSettings;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'started_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  startedAt!: number | null;

  @Column({ name: 'ended_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  endedAt!: number | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}

/** One box of a rollout: its place in the target list and the status of its current attempt. */
@Entity('rollout_devices')
@Index('idx_rollout_devices_device', ['deviceId'])
export class RolloutDeviceRow {
  @PrimaryColumn({ name: 'rollout_id', type: 'varchar', length: 36 })
  rolloutId!: string;

  @PrimaryColumn({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: BoxStatus;

  @Column({ type: 'varchar', length: 32, nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  detail!: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  progress!: { bytes: number; total: number } | null;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'offered_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  offeredAt!: number | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}

/**
 * Every status report a box sent on `up/update`: the box's update history, and the queue the rollout
 * engine reads (`processed` false until the leading replica applied it to its rollout).
 */
@Entity('device_updates')
@Index('idx_device_updates_device_received', ['deviceId', 'receivedAt'])
@Index('idx_device_updates_processed', ['processed'])
@Index('uq_device_updates_report', ['deviceId', 'rolloutId', 'attempt', 'status', 'reportedAt'], {
  unique: true,
})
export class DeviceUpdateRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'device_id', type: 'varchar', length: 64 })
  deviceId!: string;

  /** The rollout's id (without the attempt suffix of the offer). */
  @Column({ name: 'rollout_id', type: 'varchar', length: 64 })
  rolloutId!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ type: 'varchar', length: 64 })
  version!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  reason!: string | null;

  @Column({ type: 'varchar', length: 2000, nullable: true })
  detail!: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  progress!: { bytes: number; total: number } | null;

  @Column({ name: 'running_version', type: 'varchar', length: 64 })
  runningVersion!: string;

  /** The box's clock when it reported. */
  @Column({ name: 'reported_at', type: 'bigint', transformer: bigintNumber })
  reportedAt!: number;

  @Column({ name: 'received_at', type: 'bigint', transformer: bigintNumber })
  receivedAt!: number;

  @Column({ type: 'boolean' })
  processed!: boolean;
}
