import { Column, Entity, Index } from 'typeorm';
import type { AlertKind, AlertSeverity, AlertTarget } from '@agentbox/schemas';
import { Int64, Json, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';
import type { AlertParams } from './alert-state.js';

@Entity('alert_rules')
export class AlertRuleRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(100) name!: string;
  @Varchar(32) kind!: AlertKind;
  @Json() params!: AlertParams;
  @Json() target!: AlertTarget;
  @Varchar(16) severity!: AlertSeverity;
  @Json() channelIds!: string[];
  @Column({ type: Boolean }) enabled!: boolean;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}

/**
 * One alert per (rule, box): its state machine (alert-state.ts) lives in these columns, times in epoch
 * milliseconds. `pending` rows wait out the rule's forSec and are not listed.
 */
@Entity('alerts')
@Index('uq_alerts_rule_device', ['ruleId', 'deviceId'], { unique: true })
@Index('idx_alerts_state', ['state'])
export class AlertRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(36) ruleId!: string;
  /** The box, or '' for a fleet-wide alert. */
  @Varchar(64) deviceId!: string;
  @Varchar(16) state!: 'pending' | 'firing' | 'resolved';
  /** Since when the condition has held, while it holds and the alert is not firing. */
  @Int64({ nullable: true }) activeSince!: number | null;
  /** When the condition was last seen clear while firing, or null while it holds. */
  @Int64({ nullable: true }) clearSince!: number | null;
  @Int64() startsAt!: number;
  @Int64({ nullable: true }) endsAt!: number | null;
  /** Last firing notification sent; at most one per AGENTBOX_ALERT_RENOTIFY_MS. */
  @Int64({ nullable: true }) notifiedAt!: number | null;
  /** The state the channels were last told ('firing' or 'resolved'), so a suppressed firing resolves quietly. */
  @Varchar(16, { nullable: true }) notifiedState!: 'firing' | 'resolved' | null;
  @Text() summary!: string;
}

@Entity('alert_silences')
export class SilenceRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(36, { nullable: true }) ruleId!: string | null;
  @Varchar(64, { nullable: true }) deviceId!: string | null;
  @Int64() endsAt!: number;
  @Varchar(500, { nullable: true }) comment!: string | null;
  @Varchar(100) createdBy!: string;
  @Timestamp() createdAt!: Date;
}
