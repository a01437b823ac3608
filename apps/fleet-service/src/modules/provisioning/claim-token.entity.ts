import { Entity } from 'typeorm';
import { Int, PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

@Entity('claim_tokens')
export class ClaimToken {
  @PrimaryVarchar(36) id!: string;

  /** sha256 of the token: claim tokens are 32 random bytes, so a fast hash is enough. */
  @Varchar(64, { unique: true }) tokenHash!: string;

  @Timestamp() expiresAt!: Date;
  @Int() maxUses!: number;
  @Int({ default: 0 }) uses!: number;
  @Varchar(200, { nullable: true }) note!: string | null;
  @Varchar(100) createdBy!: string;
  @Timestamp() createdAt!: Date;
  @Timestamp({ nullable: true }) revokedAt!: Date | null;
}
