import { NULLABLE, PRIMARY, tablesMigration, table } from '../../../database/migration-helpers.js';

/** Alert rules, the alerts they raise (one per rule and box) and silences. */
export const Alerts1765600000001 = tablesMigration('Alerts1765600000001', (c) => [
  table('alert_rules', {
    columns: {
      id: c.varchar(36, PRIMARY),
      name: c.varchar(100),
      kind: c.varchar(32),
      params: c.json(),
      target: c.json(),
      severity: c.varchar(16),
      channel_ids: c.json(),
      enabled: c.boolean(),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
  }),
  table('alerts', {
    columns: {
      id: c.varchar(36, PRIMARY),
      rule_id: c.varchar(36),
      device_id: c.varchar(64),
      state: c.varchar(16),
      active_since: c.bigint(NULLABLE),
      clear_since: c.bigint(NULLABLE),
      starts_at: c.bigint(),
      ends_at: c.bigint(NULLABLE),
      notified_at: c.bigint(NULLABLE),
      notified_state: c.varchar(16, NULLABLE),
      summary: c.text(),
    },
    indices: [
      { name: 'uq_alerts_rule_device', columnNames: ['rule_id', 'device_id'], isUnique: true },
      { name: 'idx_alerts_state', columnNames: ['state'] },
    ],
  }),
  table('alert_silences', {
    columns: {
      id: c.varchar(36, PRIMARY),
      rule_id: c.varchar(36, NULLABLE),
      device_id: c.varchar(64, NULLABLE),
      ends_at: c.bigint(),
      comment: c.varchar(500, NULLABLE),
      created_by: c.varchar(100),
      created_at: c.timestamp(),
    },
  }),
]);
