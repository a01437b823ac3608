import type { MigrationInterface } from 'typeorm';
import { TelemetrySamples1764290000000 } from './1764290000000-telemetry-samples.js';
import { DeviceSpoolMarks1764800000000 } from './1764800000000-device-spool-marks.js';
import { PartitionTelemetrySamples1765100000000 } from './1765100000000-partition-telemetry-samples.js';
import { TelemetryRollups1765500000000 } from './1765500000000-telemetry-rollups.js';

/**
 * Migrations of the MQTT-side modules (telemetry samples, device events, desired/reported state, spool marks),
 * composed into the data source by the database module.
 */
export const TELEMETRY_MIGRATIONS: Array<new () => MigrationInterface> = [
  TelemetrySamples1764290000000,
  DeviceSpoolMarks1764800000000,
  PartitionTelemetrySamples1765100000000,
  TelemetryRollups1765500000000,
];
