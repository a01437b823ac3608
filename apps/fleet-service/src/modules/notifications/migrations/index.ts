import type { MigrationInterface } from 'typeorm';
import { Notifications1765600000000 } from './1765600000000-notifications.js';

/** Migrations of notification channels and deliveries, composed into the data source. */
export const NOTIFICATION_MIGRATIONS: Array<new () => MigrationInterface> = [Notifications1765600000000];
