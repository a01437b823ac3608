import type { MigrationInterface } from 'typeorm';
import { Rollouts1764400000000 } from './1764400000000-rollouts.js';
import { DeviceUpdateOnce1764700000000 } from './1764700000000-device-update-once.js';

/** Migrations of rollouts and box update history, composed into the data source. */
export const ROLLOUT_MIGRATIONS: Array<new () => MigrationInterface> = [
  Rollouts1764400000000,
  DeviceUpdateOnce1764700000000,
];
