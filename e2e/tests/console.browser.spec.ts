import { execFileSync } from 'node:child_process';
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
  /** Every URL the console requested. */
  const requested: string[] = [];

  beforeAll(async () => {
    await platform.start();
    const token = await platform.api.createClaimToken();
    platform.startAgent('box-ui', token);
    deviceId = (await platform.waitForDevice((d) => d.online, 'box-ui online')).id;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (request) => requested.push(request.url()));
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

  it('opens the live stream with a short-lived ticket, never with the login token in a URL', async () => {
    // Evaluated in the page (e2e has no DOM types): the console's stored session (stores/auth.ts).
    const session = await page.evaluate<string | null>('localStorage.getItem("agentbox.session")');
    const accessToken = (JSON.parse(session ?? '{}') as { token?: string }).token;
    expect(accessToken).toMatch(/^ey/);
    const live = requested.filter((url) => new URL(url).pathname === '/api/v1/live');
    expect(live.length).toBeGreaterThan(0);
    for (const url of live) expect(new URL(url).searchParams.get('ticket')).toMatch(/^ey/);
    expect(requested.filter((url) => url.includes('access_token') || url.includes(accessToken!))).toEqual([]);
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

  it('shows a new viewer API key a command its role may run, and the command works', async () => {
    await page.goto(`${platform.fleet.url}/api-keys`);
    await page.getByTestId('api-key-create').click();
    await fillFields(page, { 'api-key-name': 'dashboard script' });
    await page.getByTestId('api-key-submit').click();
    const secret = (await page.getByTestId('api-key-secret').textContent())?.trim() ?? '';
    const command = (await page.getByTestId('api-key-command').textContent()) ?? '';
    expect(secret).toMatch(/^abk_/);
    // The first line says where the key goes; the rest is run as a person would, with the key there.
    const [exportLine, ...rest] = command.trim().split('\n');
    expect(exportLine).toBe('export AGENTBOX_API_KEY=abk_…');
    const output = execFileSync('sh', ['-c', rest.join('\n')], {
      env: { PATH: process.env.PATH, AGENTBOX_API_KEY: secret },
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toMatchObject({ items: expect.any(Array) });
    await page.getByTestId('api-key-close').click();
  });
});

describe('console text and look', () => {
  const platform = new Platform();
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await platform.start();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${platform.fleet.url}/agents/new`);
    await fillFields(page, { 'login-username': 'admin', 'login-password': platform.fleet.adminPassword });
    await page.getByTestId('login-submit').click();
    await page.waitForURL(/\/agents\/new$/);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop();
  });

  it('shows no generic "Please Input" or "Please Select" placeholder on a long form', async () => {
    await page.getByTestId('agent-provider').waitFor();
    // Evaluated in the page (e2e has no DOM types): every placeholder the form shows.
    const placeholders = await page.evaluate<string[]>(`[
      ...[...document.querySelectorAll('input[placeholder], textarea[placeholder]')].map((e) => e.placeholder),
      ...[...document.querySelectorAll('.n-base-selection-placeholder')].map((e) => e.textContent.trim()),
    ]`);
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.filter((text) => /^Please (Input|Select)$/.test(text))).toEqual([]);
  });

  it('draws links in the console green, not the browser blue', async () => {
    await page.goto(`${platform.fleet.url}/agents`);
    await page.locator('.content a[href]').first().waitFor();
    const color = await page.evaluate<string | null>(
      `(() => { const a = document.querySelector('.content a[href]'); return a && getComputedStyle(a).color; })()`,
    );
    expect(color).not.toBeNull();
    expect(color).not.toBe('rgb(0, 0, 238)');
    expect(color).toBe('rgb(12, 122, 67)');
  });

  it('fits a 390 px phone: a menu button opens the navigation, table headers stay on one line', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${platform.fleet.url}/devices`);
    await page.getByTestId('nav-menu-button').click();
    await page.getByTestId('nav-drawer').waitFor();
    await page.getByTestId('nav-audit').click();
    await page.waitForURL(/\/audit$/);
    await page.locator('.n-data-table-th').first().waitFor();
    // Evaluated in the page (e2e has no DOM types): the tallest header cell and the page's own width.
    const layout = await page.evaluate<{ tallestHeader: number; pageWidth: number }>(`({
      tallestHeader: Math.max(...[...document.querySelectorAll('.n-data-table-th')].map((th) => th.getBoundingClientRect().height)),
      pageWidth: document.documentElement.scrollWidth,
    })`);
    expect(layout.tallestHeader).toBeLessThan(60);
    expect(layout.pageWidth).toBeLessThanOrEqual(391);
    // Wider again: the header's own navigation comes back once the media query has fired.
    await page.setViewportSize({ width: 1280, height: 800 });
    await expect.poll(() => page.getByTestId('nav-menu-button').count(), { timeout: 10_000 }).toBe(0);
  });

  it('calls rollouts 灰度发布 and LLM tokens Token in Simplified Chinese', async () => {
    await page.click('[data-testid=language-switcher]');
    await page.click('.n-base-select-option:has-text("简体中文")');
    await page.getByTestId('nav-rollouts').waitFor();
    expect(await page.getByTestId('nav-rollouts').textContent()).toContain('灰度发布');
    expect(await page.getByTestId('nav-dashboard').textContent()).toContain('Token');
  });
});
