import { Entity, Index } from 'typeorm';
import type { HookDeliveryStatus } from '@agentbox/schemas';
import { Int, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';

/**
 * A webhook relayed to one agent on one box. Its secret is kept encrypted (SecretCipher), not only hashed:
 * checking an HMAC signature needs the secret itself.
 */
@Entity('hooks')
export class HookRow {
  @PrimaryVarchar(16) id!: string;
  @Varchar(100) name!: string;
  @Varchar(63) agentId!: string;
  @Varchar(64) deviceId!: string;
  /** `v1:{keyId}:{iv}:{ct}:{tag}` (see SecretCipher), bound to the hook's id. */
  @Text() secretSealed!: string;
  @Int() deliveryTtlSec!: number;
  @Varchar(100) createdBy!: string;
  @Timestamp() createdAt!: Date;
  @Timestamp() secretRotatedAt!: Date;
  @Timestamp({ nullable: true }) lastInvokedAt!: Date | null;
}

/** An invocation that waits for its box: queued while the box is offline, delivered in order once it is back. */
@Entity('hook_deliveries')
@Index('idx_hook_deliveries_device_status', ['deviceId', 'status'])
@Index('idx_hook_deliveries_hook_created', ['hookId', 'createdAt'])
export class HookDeliveryRow {
  /** Time-ordered: deliveries of a box go out in id order. */
  @PrimaryVarchar(36) id!: string;
  @Varchar(16) hookId!: string;
  @Varchar(63) agentId!: string;
  @Varchar(64) deviceId!: string;
  @Varchar(16) status!: HookDeliveryStatus;
  @Text() input!: string;
  @Int() attempts!: number;
  @Timestamp() createdAt!: Date;
  @Timestamp() expiresAt!: Date;
  @Timestamp({ nullable: true }) claimedAt!: Date | null;
  @Timestamp({ nullable: true }) deliveredAt!: Date | null;
  @Varchar(64, { nullable: true }) runId!: string | null;
  @Text({ nullable: true }) error!: string | null;
}

/** A signature seen within the replay window (any replica): the same one again is refused. */
@Entity('hook_signatures')
export class HookSignatureRow {
  /** `{hookId}:{signature hex}`. */
  @PrimaryVarchar(100) key!: string;
  @Timestamp() seenAt!: Date;
}
