import { NULLABLE, PRIMARY, tablesMigration, table } from '../../../database/migration-helpers.js';

/** Notification channels and the outcome of every delivery to them. */
export const Notifications1765600000000 = tablesMigration('Notifications1765600000000', (c) => [
  table('notification_channels', {
    columns: {
      id: c.varchar(36, PRIMARY),
      name: c.varchar(100),
      type: c.varchar(16),
      url_sealed: c.text(),
      url_shown: c.varchar(2000),
      secret_sealed: c.text(NULLABLE),
      created_at: c.timestamp(),
      updated_at: c.timestamp(),
    },
  }),
  table('notification_deliveries', {
    columns: {
      id: c.varchar(36, PRIMARY),
      channel_id: c.varchar(36),
      alert_id: c.varchar(36, NULLABLE),
      kind: c.varchar(16),
      ok: c.integer(),
      status_code: c.integer(NULLABLE),
      error: c.varchar(500, NULLABLE),
      attempts: c.integer(),
      sent_at: c.bigint(),
    },
    indices: [
      { name: 'idx_notification_deliveries_channel_sent', columnNames: ['channel_id', 'sent_at'] },
      { name: 'idx_notification_deliveries_sent', columnNames: ['sent_at'] },
    ],
  }),
]);
