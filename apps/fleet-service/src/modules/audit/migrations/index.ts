import type { MigrationInterface } from 'typeorm';
import { Audit1764310000000 } from './1764310000000-audit.js';

/** Migrations of the audit log, composed into the data source. */
export const AUDIT_MIGRATIONS: Array<new () => MigrationInterface> = [Audit1764310000000];
