import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from './audit-redaction.js';

describe('redactSecrets', () => {
  it('hides fields named like secrets, however deep, and keeps flags and counts', () => {
    expect(
      redactSecrets({
        name: 'deepseek',
        apiKey: 'sk-live-123',
        password: 'hunter2-hunter2',
        hasApiKey: true,
        maxToken: 4096,
        nested: { headers: { 'X-Api-Key': 'k', Authorization: 'x' }, list: [{ claimToken: 'c' }] },
      }),
    ).toEqual({
      name: 'deepseek',
      apiKey: REDACTED,
      password: REDACTED,
      hasApiKey: true,
      maxToken: 4096,
      nested: {
        headers: { 'X-Api-Key': REDACTED, Authorization: REDACTED },
        list: [{ claimToken: REDACTED }],
      },
    });
  });

  it('hides values shaped like the service credentials wherever they appear', () => {
    expect(
      redactSecrets({
        note: 'abk_0123456789abcdef_secret',
        items: ['abct_xyz', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig', 'plain'],
      }),
    ).toEqual({ note: REDACTED, items: [REDACTED, REDACTED, 'plain'] });
  });

  it('hides the credentials robot URLs carry in their query or hook path', () => {
    expect(
      redactSecrets({
        dingtalk: 'https://oapi.dingtalk.com/robot/send?access_token=tok',
        feishu: 'https://open.feishu.cn/open-apis/bot/v2/hook/0f3c-id',
        slack: 'https://hooks.slack.com/services/T0/B0/secret',
        plain: 'https://hooks.example/alerts',
        text: 'not a url',
      }),
    ).toEqual({
      dingtalk: `https://oapi.dingtalk.com/robot/send?${REDACTED}`,
      feishu: `https://open.feishu.cn/open-apis/bot/v2/hook/${REDACTED}`,
      slack: `https://hooks.slack.com/services/${REDACTED}`,
      plain: 'https://hooks.example/alerts',
      text: 'not a url',
    });
  });
});
