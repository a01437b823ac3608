import type { MigrationInterface } from 'typeorm';
import { CoreSchema1764280000000 } from './1764280000000-core-schema.js';
import { ReadinessProbe1764800000000 } from './1764800000000-readiness-probe.js';

/** Core migrations in order; feature modules keep theirs beside them (e.g. TELEMETRY_MIGRATIONS). */
export const CORE_MIGRATIONS: Array<new () => MigrationInterface> = [
  CoreSchema1764280000000,
  ReadinessProbe1764800000000,
];
