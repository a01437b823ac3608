import { Column, Entity, Index } from 'typeorm';
import { type PauseReason, type RolloutSettings, type RolloutStatus } from '@agentbox/schemas';
import { Int, Int64, Json, PrimaryVarchar, Varchar } from '../../database/columns.js';
import type { BoxStatus, PhaseBounds } from './rollout-state.js';

/** A rollout of one release to a fixed set of boxes, and where the engine stands with it. */
@Entity('rollouts')
export class RolloutRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(36) releaseId!: string;
  @Varchar(64) releaseVersion!: string;
  @Varchar(16) status!: RolloutStatus;
  @Varchar(24, { nullable: true }) pauseReason!: PauseReason | null;
  @Int() phase!: number;

  /** Cumulative phase ends over the target list, fixed at creation. */
  @Json() phases!: PhaseBounds[];

  /** What the operator asked for (targets, phases, thresholds, policy). */
  @Json() settings!: RolloutSettings;

  @Varchar(100) createdBy!: string;
  @Int64() createdAt!: number;
  @Int64({ nullable: true }) startedAt!: number | null;
  @Int64({ nullable: true }) endedAt!: number | null;
  @Int64() updatedAt!: number;
}

/** One box of a rollout: its place in the target list and the status of its current attempt. */
@Entity('rollout_devices')
@Index('idx_rollout_devices_device', ['deviceId'])
export class RolloutDeviceRow {
  @PrimaryVarchar(36) rolloutId!: string;
  @PrimaryVarchar(64) deviceId!: string;
  @Int() position!: number;
  @Varchar(16) status!: BoxStatus;
  @Varchar(32, { nullable: true }) reason!: string | null;
  @Varchar(2000, { nullable: true }) detail!: string | null;
  @Json({ nullable: true }) progress!: { bytes: number; total: number } | null;
  @Int() attempt!: number;
  @Int64({ nullable: true }) offeredAt!: number | null;
  @Int64() updatedAt!: number;
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
  @PrimaryVarchar(36) id!: string;
  @Varchar(64) deviceId!: string;

  /** The rollout's id (without the attempt suffix of the offer). */
  @Varchar(64) rolloutId!: string;

  @Int() attempt!: number;
  @Varchar(64) version!: string;
  @Varchar(16) status!: string;
  @Varchar(32, { nullable: true }) reason!: string | null;
  @Varchar(2000, { nullable: true }) detail!: string | null;
  @Json({ nullable: true }) progress!: { bytes: number; total: number } | null;
  @Varchar(64) runningVersion!: string;

  /** The box's clock when it reported. */
  @Int64() reportedAt!: number;

  @Int64() receivedAt!: number;

  @Column({ type: 'boolean' })
  processed!: boolean;
}
