import type { AlertWebhookPayload, ChannelType } from '@agentbox/schemas';
import { dingtalkSignedUrl, feishuSignature, webhookSignature } from './channel-signatures.js';

/** What one notification says, whatever the channel: the generic webhook payload plus its event. */
export interface Notification {
  /** `test` is the channel test: shaped like a firing alert so receivers parse it like one. */
  event: 'firing' | 'resolved' | 'test';
  payload: AlertWebhookPayload;
}

export interface ChannelTarget {
  type: ChannelType;
  /** For e-mail: the SMTP settings as JSON (email-sender.ts); `secret` is then the SMTP password. */
  url: string;
  secret: string | undefined;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const SEVERITY_MARK = { info: 'ℹ️', warning: '⚠️', critical: '🔴' } as const;

/** One short title line and a few detail lines, shared by the chat robots. */
function describe(notification: Notification): { title: string; lines: string[] } {
  const { alert } = notification.payload;
  const state = notification.event.toUpperCase();
  // "AgentBox" in every title: the keyword a DingTalk robot's 自定义关键词 setting can require.
  const title = `${SEVERITY_MARK[alert.rule.severity]} AgentBox [${state}] ${alert.rule.name}`;
  const lines = [alert.summary];
  if (alert.deviceName ?? alert.deviceId) lines.push(`Box: ${alert.deviceName ?? alert.deviceId}`);
  lines.push(`Severity: ${alert.rule.severity}`, `Since: ${alert.startsAt}`);
  if (alert.endsAt) lines.push(`Resolved: ${alert.endsAt}`);
  return { title, lines };
}

/**
 * The request for one channel type at `nowMs` (injected so signatures are testable): the body formats
 * are those of the platforms' docs for DingTalk custom robots (自定义机器人, markdown message), Feishu
 * custom bots (自定义机器人, text message), WeCom group robots (群机器人, markdown message) and Slack
 * incoming webhooks (text plus a section block).
 */
export function buildRequest(
  target: ChannelTarget,
  notification: Notification,
  nowMs: number,
): OutgoingRequest {
  const json = { 'content-type': 'application/json' };
  const { title, lines } = describe(notification);
  switch (target.type) {
    case 'webhook': {
      const body = JSON.stringify(notification.payload);
      const headers: Record<string, string> = {
        ...json,
        'x-agentbox-event': notification.event,
        'x-agentbox-timestamp': String(Math.floor(nowMs / 1000)),
      };
      if (target.secret) headers['x-agentbox-signature'] = webhookSignature(target.secret, body);
      return { url: target.url, headers, body };
    }
    case 'dingtalk': {
      const url = target.secret ? dingtalkSignedUrl(target.url, target.secret, nowMs) : target.url;
      const text = [`### ${title}`, ...lines.map((line) => `- ${line}`)].join('\n');
      return { url, headers: json, body: JSON.stringify({ msgtype: 'markdown', markdown: { title, text } }) };
    }
    case 'feishu': {
      const timestamp = Math.floor(nowMs / 1000);
      const signature = target.secret
        ? { timestamp: String(timestamp), sign: feishuSignature(target.secret, timestamp) }
        : {};
      const content = { text: [title, ...lines].join('\n') };
      return {
        url: target.url,
        headers: json,
        body: JSON.stringify({ ...signature, msg_type: 'text', content }),
      };
    }
    case 'wecom': {
      const content = [`**${title}**`, ...lines.map((line) => `> ${line}`)].join('\n');
      return {
        url: target.url,
        headers: json,
        body: JSON.stringify({ msgtype: 'markdown', markdown: { content } }),
      };
    }
    case 'slack': {
      const text = [`*${title}*`, ...lines].join('\n');
      const blocks = [{ type: 'section', text: { type: 'mrkdwn', text } }];
      return { url: target.url, headers: json, body: JSON.stringify({ text: title, blocks }) };
    }
    case 'email':
      throw new Error('e-mail channels are sent over SMTP, not HTTP');
  }
}

/**
 * The chat platforms answer HTTP 200 with an error code in the body when they refuse a message (bad
 * signature, keyword missing, rate limit): DingTalk and WeCom `errcode`, Feishu `code`. Null: accepted.
 */
export function refusalIn(type: ChannelType, responseText: string): string | null {
  if (type === 'webhook' || type === 'slack' || type === 'email') return null;
  let body: unknown;
  try {
    body = JSON.parse(responseText);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object') return null;
  const fields = body as Record<string, unknown>;
  const code = type === 'feishu' ? (fields.code ?? fields.StatusCode) : fields.errcode;
  if (code === undefined || code === 0) return null;
  const message = fields.msg ?? fields.errmsg ?? fields.StatusMessage;
  return `refused: code ${JSON.stringify(code)} ${typeof message === 'string' ? message : ''}`.trim();
}

/**
 * The URL as the API shows it. Every robot URL carries its credential (DingTalk `access_token`, Feishu
 * hook id, WeCom `key`, Slack `/services/…` path), so only scheme and host show; a generic webhook shows
 * its path too, never its query.
 */
export function redactUrl(type: ChannelType, url: string): string {
  const parsed = new URL(url);
  if (type !== 'webhook') return `${parsed.protocol}//${parsed.host}/…`;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
}
