import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../support/platform.js';
import { fillFields, launchChromium, runConsoleSmoke } from '../support/browser.js';
import { waitFor } from '@agentbox/test-support';

describe('console in a real browser', () => {
  const platform = new Platform();
  let browser: Browser;
  let page: Page;
  let deviceId: string;

  beforeAll(async () => {
    await platform.start();
    const token = await platform.api.createClaimToken();
    platform.startAgent('box-ui', token);
    deviceId = (await platform.waitForDevice((d) => d.online, 'box-ui online')).id;
    browser = await launchChromium();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop();
  });

  it('logs in and sees the box online', async () => {
    await page.goto(`${platform.fleet.url}/devices`);
    await fillFields(page, { 'login-username': 'admin', 'login-password': platform.fleet.adminPassword });
    await page.getByTestId('login-submit').click();
    const status = page.getByTestId(`device-status-${deviceId}`);
    await status.waitFor({ timeout: 20_000 });
    await expect.poll(() => status.getAttribute('data-online'), { timeout: 20_000 }).toBe('true');
  });

  it('opens the box and sees a chart with data', async () => {
    await page.getByTestId(`device-row-${deviceId}`).click();
    const chart = page.getByTestId('chart-cpu');
    await chart.waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 30_000 })
      .toBeGreaterThan(1);
    await page.screenshot({ path: `${platform.root}/device-detail.png` });
  });

  it('sees the box go offline when its agent is killed', async () => {
    await platform.agent('box-ui').kill('SIGKILL');
    const status = page.getByTestId(`device-status-${deviceId}`);
    await expect.poll(() => status.getAttribute('data-online'), { timeout: 20_000 }).toBe('false');
    await waitFor('offline in the API too', async () => !(await platform.api.device(deviceId)).online);
  });

  it('walks the whole console flow: add box, live row, charts, tags, language, offline, expired session', async () => {
    // The console's own smoke script drives a simulated box (real provisioning, real MQTT) through the UI.
    const { code, output } = await runConsoleSmoke('smoke.mjs', platform.fleet);
    expect(code, output).toBe(0);
  });

  it('walks the agents flow: provider, agent with a cron preview, assignment, task, live run, token chart', async () => {
    // A simulated box (real provisioning, real MQTT) answers the task and reports the run, its steps and usage.
    const { code, output } = await runConsoleSmoke('agents-smoke.mjs', platform.fleet);
    expect(code, output).toBe(0);
  });
});
