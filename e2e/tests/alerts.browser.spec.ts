import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import {
  fillFields,
  launchChromium,
  openConsolePage,
  saveScreenshot,
  signInToConsole,
} from '../support/browser.js';
import { Platform } from '../support/platform.js';

/**
 * Alerts end to end: a webhook channel and a rule made in the console of a real fleet service, a real
 * device agent killed with -9 (its broker connection drops, the Last Will marks it offline) and the
 * signed webhook firing within forSec + one tick, the header's bell counting it live, then the agent
 * restarted and the alert resolved.
 */

const SECRET = 'browser-test-webhook-secret';
const TICK_MS = 500;
const FOR_SEC = 2;

interface Hook {
  status: string;
  signed: boolean;
  at: number;
  deviceId?: string;
  test: boolean;
}

describe('alerts in the console, with a real box going offline and back', () => {
  const platform = new Platform({ AGENTBOX_ALERT_TICK_MS: String(TICK_MS) });
  const hooks: Hook[] = [];
  let server: Server;
  let hookUrl = '';
  let browser: Browser;
  let page: Page;
  let deviceId: string;
  let failed = false;
  const pageErrors: string[] = [];

  function screenshotOnFailure(context: TestContext, name: string): void {
    context.onTestFailed(async () => {
      failed = true;
      await saveScreenshot(page, join(platform.root, `alerts-${name}.png`));
    });
  }

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = JSON.parse(raw) as { status: string; alert: { id: string; deviceId?: string } };
        const expected = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
        hooks.push({
          status: body.status,
          signed: request.headers['x-agentbox-signature'] === expected,
          at: Date.now(),
          test: body.alert.id === 'test',
          ...(body.alert.deviceId ? { deviceId: body.alert.deviceId } : {}),
        });
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;

    await platform.start();
    const token = await platform.api.createClaimToken();
    platform.startAgent('alert-box', token);
    deviceId = (await platform.waitForDevice((d) => d.online, 'alert-box online')).id;
    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await platform.stop({ keep: failed });
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('creates a webhook channel and sends a test that arrives signed', async (context) => {
    screenshotOnFailure(context, '1-channel');
    await signInToConsole(page, platform.fleet);
    // The header's bell is the way to the alerts page.
    await page.getByTestId('alert-bell').click();
    await page.waitForURL(/\/alerts/);
    expect(await page.getByTestId('alert-bell-count').textContent()).toBe('0');
    await page.getByTestId('alerts-empty').waitFor();

    await page.locator('.n-tabs-tab', { hasText: 'Channels' }).click();
    await page.getByTestId('channels-empty').waitFor();
    await page.getByTestId('channel-create').click();
    await fillFields(page, {
      'channel-name': 'Ops webhook',
      'channel-url': hookUrl,
      'channel-secret': SECRET,
    });
    await page.getByTestId('channel-save').click();
    const channels = await waitFor('the channel', async () => {
      const list = await platform.api.request<Array<{ id: string; hasSecret: boolean; url: string }>>(
        'GET',
        '/api/v1/notification-channels',
      );
      return list.body.length === 1 && list.body;
    });
    expect(channels[0]).toMatchObject({ hasSecret: true, url: hookUrl });

    await page.getByTestId(`channel-test-${channels[0]!.id}`).click();
    const outcome = page.getByTestId(`channel-outcome-${channels[0]!.id}`);
    await outcome.waitFor();
    expect(await outcome.textContent()).toContain('Delivered (HTTP 200)');
    // The stored delivery shows too, as it will for every alert sent to the channel.
    await expect
      .poll(() => page.getByTestId(`channel-delivery-${channels[0]!.id}`).textContent())
      .toContain('Delivered');
    expect(hooks).toEqual([expect.objectContaining({ test: true, signed: true })]);
    await page.screenshot({ path: join(platform.root, 'alerts-channels.png') });
  });

  it('creates a rule, then fires within forSec + one tick of the box dying, and counts it on the bell', async (context) => {
    screenshotOnFailure(context, '2-rule');
    await page.locator('.n-tabs-tab', { hasText: 'Rules' }).click();
    await page.getByTestId('rules-empty').waitFor();
    await page.getByTestId('rule-create').click();
    await fillFields(page, { 'rule-name': 'Box offline' });
    await page.getByTestId('rule-for').locator('input').fill(String(FOR_SEC));
    await page.getByTestId('rule-clear').locator('input').fill('1');
    await page.getByTestId('rule-save').click();
    const rules = await waitFor('the rule', async () => {
      const list = await platform.api.request<
        Array<{ kind: string; params: { forSec?: number }; channelIds: string[] }>
      >('GET', '/api/v1/alert-rules');
      return list.body.length === 1 && list.body;
    });
    expect(rules[0]).toMatchObject({ kind: 'device-offline', params: { forSec: FOR_SEC } });
    expect(rules[0]!.channelIds).toHaveLength(1);

    const killedAt = Date.now();
    await platform.agent('alert-box').kill('SIGKILL');
    const firing = await waitFor(
      'the firing webhook',
      () => hooks.find((hook) => hook.status === 'firing' && !hook.test && hook.deviceId === deviceId),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(firing.signed).toBe(true);
    // Offline is seen at once (the broker publishes the Last Will); then forSec, then at most a tick.
    expect(firing.at - killedAt).toBeGreaterThanOrEqual(FOR_SEC * 1_000);
    expect(firing.at - killedAt).toBeLessThan(FOR_SEC * 1_000 + TICK_MS + 4_000);

    await expect
      .poll(() => page.getByTestId('alert-bell-count').textContent(), { timeout: 10_000 })
      .toBe('1');
    await page.locator('.n-tabs-tab', { hasText: 'Firing' }).click();
    await page.getByTestId('alerts-firing').getByText('Box offline').waitFor();
    await page.screenshot({ path: join(platform.root, 'alerts-firing.png') });
  });

  it('resolves once the box is back', async (context) => {
    screenshotOnFailure(context, '3-resolved');
    platform.startAgent('alert-box');
    await platform.waitForDevice((d) => d.id === deviceId && d.online, 'alert-box back online');
    const resolved = await waitFor(
      'the resolved webhook',
      () => hooks.find((hook) => hook.status === 'resolved' && hook.deviceId === deviceId),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(resolved.signed).toBe(true);
    await expect
      .poll(() => page.getByTestId('alert-bell-count').textContent(), { timeout: 10_000 })
      .toBe('0');
    expect(hooks.filter((hook) => hook.status === 'firing' && !hook.test)).toHaveLength(1);
    expect(pageErrors).toEqual([]);
  });
});
