import type { Notification } from './channel-formats.js';

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * The e-mail for one notification: `[FIRING] <rule> on <box>` as subject, the same facts as the chat
 * robots get in plain text and in a small HTML table, and a link to the console's alerts page when the
 * fleet knows its public URL (AGENTBOX_PUBLIC_URL).
 */
export function emailMessage(notification: Notification, publicUrl: string | undefined): EmailMessage {
  const { alert } = notification.payload;
  const state = notification.event.toUpperCase();
  const box = alert.deviceName ?? alert.deviceId;
  // Subjects are one line: a rule or box name never breaks the header.
  const subject = `[${state}] ${alert.rule.name}${box ? ` on ${box}` : ''}`.replace(/[\r\n]+/g, ' ');
  const facts: Array<[string, string]> = [['Severity', alert.rule.severity]];
  if (box) facts.push(['Box', box]);
  facts.push(['Since', alert.startsAt]);
  if (alert.endsAt) facts.push(['Resolved', alert.endsAt]);
  const link = publicUrl ? `${publicUrl.replace(/\/+$/, '')}/alerts` : undefined;

  const text = [
    alert.summary,
    '',
    ...facts.map(([label, value]) => `${label}: ${value}`),
    ...(link ? ['', `Open the console: ${link}`] : []),
  ].join('\n');
  const rows = facts
    .map(([label, value]) => `<tr><th align="left">${label}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  const html = [
    `<p>${escapeHtml(alert.summary)}</p>`,
    `<table cellpadding="4">${rows}</table>`,
    ...(link ? [`<p><a href="${escapeHtml(link)}">Open the console</a></p>`] : []),
  ].join('\n');
  return { subject, text, html };
}
