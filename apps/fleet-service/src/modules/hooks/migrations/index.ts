import type { MigrationInterface } from 'typeorm';
import { Hooks1765500000000 } from './1765500000000-hooks.js';

/** Migrations of hooks, composed into the data source. */
export const HOOK_MIGRATIONS: Array<new () => MigrationInterface> = [Hooks1765500000000];
