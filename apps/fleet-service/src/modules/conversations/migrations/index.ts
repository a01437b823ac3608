import type { MigrationInterface } from 'typeorm';
import { Conversations1765610000000 } from './1765610000000-conversations.js';

/** Migrations of conversations, composed into the data source. */
export const CONVERSATION_MIGRATIONS: Array<new () => MigrationInterface> = [Conversations1765610000000];
