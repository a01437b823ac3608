import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildRequest, redactUrl, refusalIn, type Notification } from './channel-formats.js';
import { dingtalkSignature, feishuSignature, webhookSignature } from './channel-signatures.js';

const SECRET = 'SEC0123456789abcdef';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0, 123);
const notification: Notification = {
  event: 'firing',
  payload: {
    status: 'firing',
    alert: {
      id: 'a1',
      rule: { id: 'r1', name: 'Box offline', kind: 'device-offline', severity: 'critical' },
      deviceId: 'box-1',
      deviceName: 'Shop front',
      startsAt: '2026-12-07T11:59:00.000Z',
      summary: 'Shop front is offline',
    },
  },
};

/** Independent computations of each platform's scheme, as its docs write them. */
const hmac = (key: string, message: string) => createHmac('sha256', key).update(message);

describe('channel signatures', () => {
  it('signs a generic webhook with the hex HMAC-SHA256 of the raw body', () => {
    const request = buildRequest(
      { type: 'webhook', url: 'https://hooks.example/alerts', secret: SECRET },
      notification,
      NOW,
    );
    expect(request.headers['x-agentbox-signature']).toBe(
      `sha256=${hmac(SECRET, request.body).digest('hex')}`,
    );
    expect(request.headers['x-agentbox-timestamp']).toBe(String(Math.floor(NOW / 1000)));
    expect(JSON.parse(request.body)).toEqual(notification.payload);
    expect(webhookSignature('k', 'body')).toBe('sha256=' + hmac('k', 'body').digest('hex'));
  });

  it('sends no signature header without a secret', () => {
    const request = buildRequest(
      { type: 'webhook', url: 'https://hooks.example/a', secret: undefined },
      notification,
      NOW,
    );
    expect(request.headers['x-agentbox-signature']).toBeUndefined();
  });

  it('signs DingTalk with timestamp (ms) + "\\n" + secret keyed by the secret, in the query', () => {
    const request = buildRequest(
      { type: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send?access_token=tok', secret: SECRET },
      notification,
      NOW,
    );
    const expected = hmac(SECRET, `${NOW}\n${SECRET}`).digest('base64');
    expect(dingtalkSignature(SECRET, NOW)).toBe(expected);
    const url = new URL(request.url);
    expect(url.searchParams.get('access_token')).toBe('tok');
    expect(url.searchParams.get('timestamp')).toBe(String(NOW));
    expect(url.searchParams.get('sign')).toBe(expected);
    // URL-encoded on the wire: base64's + / = never appear raw.
    expect(request.url).toContain(`sign=${encodeURIComponent(expected)}`);
    const body = JSON.parse(request.body);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.text).toContain('Shop front is offline');
  });

  it('signs Feishu with an HMAC keyed by timestamp (s) + "\\n" + secret over an empty message', () => {
    const request = buildRequest(
      { type: 'feishu', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: SECRET },
      notification,
      NOW,
    );
    const seconds = Math.floor(NOW / 1000);
    const expected = hmac(`${seconds}\n${SECRET}`, '').digest('base64');
    expect(feishuSignature(SECRET, seconds)).toBe(expected);
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({ timestamp: String(seconds), sign: expected, msg_type: 'text' });
    expect(body.content.text).toContain('Box offline');
  });

  it('formats WeCom markdown and Slack text with blocks', () => {
    const wecom = JSON.parse(
      buildRequest(
        { type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', secret: undefined },
        notification,
        NOW,
      ).body,
    );
    expect(wecom.msgtype).toBe('markdown');
    expect(wecom.markdown.content).toContain('Shop front is offline');
    const slack = JSON.parse(
      buildRequest(
        { type: 'slack', url: 'https://hooks.slack.com/services/T/B/x', secret: undefined },
        notification,
        NOW,
      ).body,
    );
    expect(slack.text).toContain('Box offline');
    expect(slack.blocks[0].text.text).toContain('Shop front is offline');
  });

  it('reads refusals in 200 answers and hides credentials in URLs', () => {
    expect(refusalIn('dingtalk', '{"errcode":310000,"errmsg":"sign not match"}')).toContain('310000');
    expect(refusalIn('dingtalk', '{"errcode":0,"errmsg":"ok"}')).toBeNull();
    expect(refusalIn('feishu', '{"code":19021,"msg":"sign match fail"}')).toContain('19021');
    expect(refusalIn('webhook', '{"errcode":1}')).toBeNull();
    expect(
      redactUrl('wecom', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-key'),
    ).not.toContain('secret-key');
    expect(redactUrl('slack', 'https://hooks.slack.com/services/T0/B0/secretpart')).not.toContain(
      'secretpart',
    );
    expect(redactUrl('webhook', 'https://hooks.example/a/b?token=t')).toBe('https://hooks.example/a/b?…');
  });
});
