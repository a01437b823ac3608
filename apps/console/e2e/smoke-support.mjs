// What the console's browser smoke scripts (smoke.mjs, agents-smoke.mjs) share: the fleet service and the
// account they use (from the environment), step logging, optional screenshots, and the run itself: a browser,
// one English page whose errors are listed at the end, and the simulated box dropped however the run ends.
import { provisionSimulatedBox } from '@agentbox/test-support';
import { chromium } from 'playwright-core';

export const base = (process.env.AGENTBOX_E2E_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const username = process.env.AGENTBOX_E2E_USER ?? 'admin';
export const password = process.env.AGENTBOX_E2E_PASSWORD;
if (!password) throw new Error('set AGENTBOX_E2E_PASSWORD');

export const step = (text) => console.log(`- ${text}`);

/** A screenshot of the page as `<AGENTBOX_E2E_SCREENSHOTS>/<prefix><name>.png`, when that variable is set. */
export function screenshots(prefix = '') {
  const dir = process.env.AGENTBOX_E2E_SCREENSHOTS;
  return async (page, name) => {
    if (dir) await page.screenshot({ path: `${dir}/${prefix}${name}.png`, fullPage: true });
  };
}

/**
 * Enrolls a simulated box with a claim token (`options` as for provisionSimulatedBox), keeps it in `session`
 * so that the run drops it at the end, and brings it online with the birth of an x64 Linux box on 9.9.9-e2e.
 */
export async function enrollBox(session, token, options, { hostname, metrics, telemetryIntervalSec }) {
  session.box = await provisionSimulatedBox(base, token, options);
  await session.box.goOnline({
    birth: {
      agentVersion: '9.9.9-e2e',
      bootId: 'boot-1',
      hardware: { hostname, platform: 'linux', arch: 'x64', cpuCores: 2, memTotalBytes: 2 ** 31 },
      capabilities: [],
      metrics,
      telemetryIntervalSec,
    },
  });
  return session.box;
}

/**
 * Runs one smoke script: `run({ page, problems, session })` drives an English page of a new browser context
 * (with `contextOptions`); page errors, and whatever else it adds to `problems`, are listed at the end before
 * "<name> passed". The simulated box the run keeps in `session.box` is dropped afterwards, passed or failed.
 */
export async function runSmoke(name, contextOptions, run) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: process.env.AGENTBOX_E2E_HEADED !== '1',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const session = { box: undefined };
  try {
    const context = await browser.newContext({ locale: 'en-US', ...contextOptions });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // The console must work under the Content-Security-Policy the fleet service sends: a violation fails.
    const cspViolations = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await run({ page, problems, session });
    for (const problem of problems) console.log(`  (browser) ${problem}`);
    if (cspViolations.length > 0) {
      throw new Error(`Content Security Policy violations:\n${cspViolations.join('\n')}`);
    }
    console.log(`${name} passed`);
  } finally {
    if (session.box) await session.box.drop().catch(() => undefined);
    await browser.close();
  }
}
