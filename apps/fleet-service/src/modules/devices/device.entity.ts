import { Column, Entity } from 'typeorm';
import type { HardwareInfo } from '@agentbox/schemas';
import { Json, PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

@Entity('devices')
export class Device {
  @PrimaryVarchar(64) id!: string;
  @Varchar(100) name!: string;
  @Varchar(128, { unique: true }) hardwareId!: string;
  @Varchar(255) secretHash!: string;
  @Json() tags!: string[];
  @Varchar(64, { nullable: true }) agentVersion!: string | null;
  @Json({ nullable: true }) hardware!: HardwareInfo | null;
  @Json() capabilities!: string[];
  @Json() metrics!: string[];

  /** The box's X25519 public key (base64 DER SPKI) from its birth message; provider keys are sealed to it. */
  @Varchar(200, { nullable: true }) secretsKey!: string | null;

  /**
   * Dynamic security only: the box's broker password sealed with the secrets key (SecretCipher, additional
   * data = the device id), to re-create a client the broker lost. Never selected unless asked for.
   */
  @Varchar(512, { nullable: true, select: false }) brokerPasswordSealed!: string | null;

  @Column({ type: Boolean, default: false })
  online!: boolean;

  @Timestamp({ nullable: true }) lastSeenAt!: Date | null;
  @Timestamp({ nullable: true }) connectedAt!: Date | null;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}
