import type { MigrationInterface } from 'typeorm';
import { Agents1764300000000 } from './1764300000000-agents.js';
import { AssignmentJobs1765300000000 } from './1765300000000-assignment-jobs.js';

/** Migrations of agents, providers, assignments, runs and usage, composed into the data source. */
export const AGENT_MIGRATIONS: Array<new () => MigrationInterface> = [
  Agents1764300000000,
  AssignmentJobs1765300000000,
];
