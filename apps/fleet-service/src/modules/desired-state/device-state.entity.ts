import { Entity } from 'typeorm';
import { Int, Int64, Json, PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

/** A box's desired document (versioned, what the cloud wants) and the state it last reported. */
@Entity('device_states')
export class DeviceStateRow {
  @PrimaryVarchar(64) deviceId!: string;
  @Int() desiredVersion!: number;
  @Json() desiredSpec!: Record<string, unknown>;
  @Timestamp() desiredAt!: Date;

  /** What the agents and providers sections were composed from; unchanged inputs publish nothing new. */
  @Varchar(64, { nullable: true }) agentsFingerprint!: string | null;

  /** Sequence number of the report stored, so an older or redelivered report never overwrites a newer one. */
  @Int64({ nullable: true }) reportedSeq!: number | null;

  @Int({ nullable: true }) reportedVersion!: number | null;
  @Json({ nullable: true }) reported!: Record<string, unknown> | null;
  @Timestamp({ nullable: true }) reportedAt!: Date | null;
}
