import type { Notification } from './channel-formats.js';

/** What a channel test sends: shaped like a real alert, so the receiver's parsing is tested too. */
export function testNotification(now: Date): Notification {
  return {
    event: 'test',
    payload: {
      status: 'firing',
      alert: {
        id: 'test',
        rule: { id: 'test', name: 'AgentBox test notification', kind: 'device-offline', severity: 'info' },
        startsAt: now.toISOString(),
        summary: 'This channel works: AgentBox alerts will arrive here.',
      },
    },
  };
}
