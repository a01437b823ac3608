import { Entity } from 'typeorm';
import { type UserRole } from '@agentbox/schemas';
import { PrimaryVarchar, Timestamp, Varchar } from '../../database/columns.js';

@Entity('users')
export class User {
  @PrimaryVarchar(36) id!: string;
  @Varchar(100, { unique: true }) username!: string;
  @Varchar(255) passwordHash!: string;
  @Varchar(16) role!: UserRole;
  @Timestamp() createdAt!: Date;
  @Timestamp() updatedAt!: Date;
}
