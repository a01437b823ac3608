import type { MigrationInterface } from 'typeorm';

/** Migrations owned by the telemetry module, composed into the data source by the database module. */
export const TELEMETRY_MIGRATIONS: Array<new () => MigrationInterface> = [];
