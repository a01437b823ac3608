import type { MigrationInterface } from 'typeorm';
import { DeviceBrokerPassword1765200000000 } from './1765200000000-device-broker-password.js';

/** Migrations of the device registry after the core schema, composed into the data source. */
export const DEVICE_MIGRATIONS: Array<new () => MigrationInterface> = [DeviceBrokerPassword1765200000000];
