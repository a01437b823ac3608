import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './processes.js';

/** Debian's Chromium unless told otherwise; `.ci/run` installs it. */
export const CHROMIUM = process.env.AGENTBOX_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Adds to `violations` every Content-Security-Policy violation Chromium reports in `page`'s console
 * (`Refused to load…`, `Refused to apply inline style…`, `Refused to frame…`): the console must work
 * under the policy the fleet service sends.
 */
export function collectCspViolations(page: Page, violations: string[]): void {
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
}

/**
 * A page in a new English context of 1400 x 1000 pixels; every uncaught page error and every CSP
 * violation is added to `pageErrors`.
 */
export async function openConsolePage(browser: Browser, pageErrors: string[]): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  collectCspViolations(page, pageErrors);
  return page;
}

/** Types each value into the field with that data-testid, in order. */
export async function fillFields(page: Page, values: Record<string, string>): Promise<void> {
  for (const [testId, value] of Object.entries(values)) await page.getByTestId(testId).fill(value);
}

/** A full-page screenshot of `page` at `path`, for a failed test; a page that is gone is no further failure. */
export async function saveScreenshot(page: Page | undefined, path: string): Promise<void> {
  await page?.screenshot({ path, fullPage: true }).catch(() => undefined);
  console.error(`screenshot: ${path}`);
}

/** Opens the console, which sends an anonymous visitor to its login page, and signs in as admin. */
export async function signInToConsole(
  page: Page,
  fleet: { url: string; adminPassword: string },
): Promise<void> {
  await page.goto(`${fleet.url}/`);
  await page.waitForURL(/\/login/);
  await fillFields(page, { 'login-username': 'admin', 'login-password': fleet.adminPassword });
  await page.getByTestId('login-submit').click();
  await page.waitForURL((url) => url.pathname === '/');
}

/**
 * Runs one of the console's own browser smoke scripts (apps/console/e2e/*.mjs) against a running fleet
 * service; resolves with its exit code and everything it printed.
 */
export async function runConsoleSmoke(
  script: string,
  fleet: { url: string; adminPassword: string },
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'apps/console/e2e', script)], {
    env: {
      ...process.env,
      AGENTBOX_E2E_URL: fleet.url,
      AGENTBOX_E2E_PASSWORD: fleet.adminPassword,
      CHROMIUM_PATH: CHROMIUM,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
