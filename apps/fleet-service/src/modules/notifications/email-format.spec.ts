import { describe, expect, it } from 'vitest';
import type { Notification } from './channel-formats.js';
import { emailMessage } from './email-format.js';

const firing: Notification = {
  event: 'firing',
  payload: {
    status: 'firing',
    alert: {
      id: 'a1',
      rule: { id: 'r1', name: 'Box <offline>', kind: 'device-offline', severity: 'critical' },
      deviceId: 'dev-1',
      deviceName: 'Lobby kiosk',
      startsAt: '2026-01-01T00:00:00.000Z',
      summary: 'Lobby kiosk has been offline for 5 minutes & counting',
    },
  },
};

describe('emailMessage', () => {
  it('names state, rule and box in the subject and links the console when its URL is known', () => {
    const message = emailMessage(firing, 'https://fleet.example.com/');
    expect(message.subject).toBe('[FIRING] Box <offline> on Lobby kiosk');
    expect(message.text).toContain('Severity: critical');
    expect(message.text).toContain('Box: Lobby kiosk');
    expect(message.text).toContain('Open the console: https://fleet.example.com/alerts');
    expect(message.html).toContain('offline for 5 minutes &#38; counting');
    expect(message.html).toContain('<a href="https://fleet.example.com/alerts">');
  });

  it('says when an alert resolved, and links nothing without a public URL', () => {
    const resolved: Notification = {
      event: 'resolved',
      payload: {
        status: 'resolved',
        alert: { ...firing.payload.alert, endsAt: '2026-01-01T00:10:00.000Z', deviceName: 'a\r\nBcc: x' },
      },
    };
    const message = emailMessage(resolved, undefined);
    expect(message.subject).toBe('[RESOLVED] Box <offline> on a Bcc: x');
    expect(message.text).toContain('Resolved: 2026-01-01T00:10:00.000Z');
    expect(message.text).not.toContain('console');
    expect(message.html).not.toContain('<a ');
  });
});
