import { Entity } from 'typeorm';
import { type UserRole } from '@agentbox/schemas';
import { PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

/** A long-lived credential for automation; only a hash of its secret is kept. */
@Entity('api_keys')
export class ApiKey {
  /** The public part of the key (`abk_<id>_...`), shown in lists and the audit log. */
  @PrimaryVarchar(16) id!: string;

  @Varchar(100) name!: string;
  @Varchar(16) role!: UserRole;

  /** sha256 of the whole key: the secret part is 200 random bits, so a fast hash is enough. */
  @Varchar(64) secretHash!: string;

  @Varchar(100) createdBy!: string;

  /** The creating user: the key never acts with more than that user's current role. */
  @Varchar(36) createdById!: string;

  @Timestamp() createdAt!: Date;
  @Timestamp({ nullable: true }) expiresAt!: Date | null;
  @Timestamp({ nullable: true }) lastUsedAt!: Date | null;
  @Timestamp({ nullable: true }) revokedAt!: Date | null;
  @Varchar(100, { nullable: true }) revokedBy!: string | null;
}
