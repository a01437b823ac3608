import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../support/platform.js';
import {
  collectCspViolations,
  launchChromium,
  openConsolePage,
  signInToConsole,
} from '../support/browser.js';

/** The console and /api/docs under the security headers the fleet service sends, in a real browser. */
describe('security headers in a real browser', () => {
  const platform = new Platform();
  const pageErrors: string[] = [];
  let browser: Browser;
  let page: Page;
  let otherSite: Server;
  let otherSiteUrl: string;

  beforeAll(async () => {
    await platform.start();
    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
    // Another site (another origin: another port) that tries to frame the console.
    otherSite = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(`<!doctype html><iframe id="victim" src="${platform.fleet.url}/login"></iframe>`);
    });
    await new Promise<void>((resolve) => otherSite.listen(0, '127.0.0.1', resolve));
    otherSiteUrl = `http://127.0.0.1:${(otherSite.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await browser?.close();
    otherSite?.close();
    await platform.stop();
  });

  it('runs the console without a CSP violation: sign-in, dashboard charts, devices', async () => {
    await signInToConsole(page, platform.fleet);
    await page.locator('canvas').first().waitFor({ timeout: 20_000 });
    await page.goto(`${platform.fleet.url}/devices`);
    await page.getByTestId('nav-devices').waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('renders Swagger UI at /api/docs without a CSP violation', async () => {
    await page.goto(`${platform.fleet.url}/api/docs`);
    await page.locator('.swagger-ui .opblock').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(10);
    expect(pageErrors).toEqual([]);
  });

  it('cannot be framed by another site', async () => {
    const attacker = await browser.newPage();
    const refusals: string[] = [];
    collectCspViolations(attacker, refusals);
    await attacker.goto(otherSiteUrl);
    await expect.poll(() => refusals.join('\n'), { timeout: 10_000 }).toContain('frame-ancestors');
    const framed = attacker.frames().find((frame) => frame !== attacker.mainFrame());
    expect(await framed?.locator('[data-testid=login-username]').count()).toBe(0);
    await attacker.close();
  });
});
