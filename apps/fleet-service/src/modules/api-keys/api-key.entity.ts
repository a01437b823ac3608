import { Column, Entity, PrimaryColumn } from 'typeorm';
import { type UserRole } from '@agentbox/schemas';

/** A long-lived credential for automation; only a hash of its secret is kept. */
@Entity('api_keys')
export class ApiKey {
  /** The public part of the key (`abk_<id>_...`), shown in lists and the audit log. */
  @PrimaryColumn({ type: 'varchar', length: 16 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 16 })
  role!: UserRole;

  /** sha256 of the whole key: the secret part is 200 random bits, so a fast hash is enough. */
  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 100 })
  createdBy!: string;

  /** The creating user: the key never acts with more than that user's current role. */
  @Column({ name: 'created_by_id', type: 'varchar', length: 36 })
  createdById!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: Date, nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'last_used_at', type: Date, nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'varchar', length: 100, nullable: true })
  revokedBy!: string | null;
}
