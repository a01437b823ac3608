import { Entity } from 'typeorm';
import { type UserRole } from '@agentbox/schemas';
import { Int, PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

@Entity('users')
export class User {
  @PrimaryVarchar(36) id!: string;
  @Varchar(100, { unique: true }) username!: string;
  @Varchar(255) passwordHash!: string;
  @Varchar(16) role!: UserRole;
  /** Set while the user is disabled: no sign-in, no session, no API key of theirs works. */
  @Timestamp({ nullable: true }) disabledAt!: Date | null;
  /** Carried in access tokens as `ver`; raising it ends every session issued before (password reset). */
  @Int({ default: 0 }) sessionVersion!: number;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}
