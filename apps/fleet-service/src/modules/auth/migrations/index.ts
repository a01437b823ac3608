import type { MigrationInterface } from 'typeorm';
import { UserStates1765400000000 } from './1765400000000-user-states.js';

/** Migrations of users after the core schema, composed into the data source. */
export const AUTH_MIGRATIONS: Array<new () => MigrationInterface> = [UserStates1765400000000];
