import type { MigrationInterface } from 'typeorm';
import { Releases1764310000001 } from './1764310000001-releases.js';
import { ReleaseArchitectures1764600000000 } from './1764600000000-release-architectures.js';

/** Migrations of releases and the trusted OTA root, composed into the data source. */
export const RELEASE_MIGRATIONS: Array<new () => MigrationInterface> = [
  Releases1764310000001,
  ReleaseArchitectures1764600000000,
];
