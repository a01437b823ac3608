import { Entity, Index } from 'typeorm';
import type { ChannelType } from '@agentbox/schemas';
import { Int, Int64, PrimaryVarchar, Text, Timestamp, Varchar } from '../../database/columns.js';

/** Where alert notifications go. The URL and the secret are stored only encrypted (SecretCipher). */
@Entity('notification_channels')
export class ChannelRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(100) name!: string;
  @Varchar(16) type!: ChannelType;
  /** The full URL, encrypted: robot URLs carry their access token or key. */
  @Text() urlSealed!: string;
  /** What the API shows instead (redactUrl). */
  @Varchar(2000) urlShown!: string;
  @Text({ nullable: true }) secretSealed!: string | null;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}

/** One notification sent (or given up on) to one channel, after its retries. */
@Entity('notification_deliveries')
@Index('idx_notification_deliveries_channel_sent', ['channelId', 'sentAt'])
@Index('idx_notification_deliveries_sent', ['sentAt'])
export class DeliveryRow {
  @PrimaryVarchar(36) id!: string;
  @Varchar(36) channelId!: string;
  @Varchar(36, { nullable: true }) alertId!: string | null;
  @Varchar(16) kind!: 'firing' | 'resolved' | 'test';
  @Int() ok!: number;
  @Int({ nullable: true }) statusCode!: number | null;
  @Varchar(500, { nullable: true }) error!: string | null;
  @Int() attempts!: number;
  /** Epoch milliseconds. */
  @Int64() sentAt!: number;
}
