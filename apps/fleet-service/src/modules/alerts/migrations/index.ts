import type { MigrationInterface } from 'typeorm';
import { Alerts1765600000001 } from './1765600000001-alerts.js';

/** Migrations of alert rules, alerts and silences, composed into the data source. */
export const ALERT_MIGRATIONS: Array<new () => MigrationInterface> = [Alerts1765600000001];
