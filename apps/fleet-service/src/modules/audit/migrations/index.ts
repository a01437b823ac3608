import type { MigrationInterface } from 'typeorm';
import { Audit1764310000000 } from './1764310000000-audit.js';
import { AuditOutcomes1765400000000 } from './1765400000000-audit-outcomes.js';

/** Migrations of the audit log, composed into the data source. */
export const AUDIT_MIGRATIONS: Array<new () => MigrationInterface> = [
  Audit1764310000000,
  AuditOutcomes1765400000000,
];
