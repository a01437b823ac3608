import type { Notification } from '../notifications/channel-formats.js';
import type { FleetBox } from './alert-conditions.js';
import type { AlertRow, AlertRuleRow } from './alert.entity.js';

/** The notification of one alert's firing or resolution (the generic webhook payload, docs/operations.md). */
export function alertNotification(
  event: 'firing' | 'resolved',
  rule: AlertRuleRow,
  alert: AlertRow,
  box: FleetBox,
): Notification {
  return {
    event,
    payload: {
      status: event,
      alert: {
        id: alert.id,
        rule: { id: rule.id, name: rule.name, kind: rule.kind, severity: rule.severity },
        ...(alert.deviceId ? { deviceId: alert.deviceId, deviceName: box.name } : {}),
        startsAt: new Date(alert.startsAt).toISOString(),
        ...(alert.endsAt !== null && event === 'resolved'
          ? { endsAt: new Date(alert.endsAt).toISOString() }
          : {}),
        summary: alert.summary,
      },
    },
  };
}
