import type { MigrationInterface } from 'typeorm';
import { ApiKeys1764520000000 } from './1764520000000-api-keys.js';

/** Migrations of API keys, composed into the data source. */
export const API_KEY_MIGRATIONS: Array<new () => MigrationInterface> = [ApiKeys1764520000000];
