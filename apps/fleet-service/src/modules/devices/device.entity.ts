import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { HardwareInfo } from '@agentbox/schemas';
import { jsonTransformer } from '../../database/json-column.js';

@Entity('devices')
export class Device {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ name: 'hardware_id', type: 'varchar', length: 128, unique: true })
  hardwareId!: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 255 })
  secretHash!: string;

  @Column({ type: 'text', transformer: jsonTransformer })
  tags!: string[];

  @Column({ name: 'agent_version', type: 'varchar', length: 64, nullable: true })
  agentVersion!: string | null;

  @Column({ type: 'text', nullable: true, transformer: jsonTransformer })
  hardware!: HardwareInfo | null;

  @Column({ type: 'text', transformer: jsonTransformer })
  capabilities!: string[];

  @Column({ type: 'text', transformer: jsonTransformer })
  metrics!: string[];

  /** The box's X25519 public key (base64 DER SPKI) from its birth message; provider keys are sealed to it. */
  @Column({ name: 'secrets_key', type: 'varchar', length: 200, nullable: true })
  secretsKey!: string | null;

  @Column({ type: Boolean, default: false })
  online!: boolean;

  @Column({ name: 'last_seen_at', type: Date, nullable: true })
  lastSeenAt!: Date | null;

  @Column({ name: 'connected_at', type: Date, nullable: true })
  connectedAt!: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
