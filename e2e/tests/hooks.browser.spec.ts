import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { startOpenAiTestServer, waitFor, type OpenAiTestServer } from '@agentbox/test-support';
import { launchChromium, openConsolePage, saveScreenshot, signInToConsole } from '../support/browser.js';
import { Platform } from '../support/platform.js';

const run = promisify(execFile);
const API_KEY = 'sk-hooks-browser-0123456789abcdef';

/**
 * The Hooks page in a real browser: create a hook for an agent on a real box, copy the command the page
 * shows once and run it in a shell, then rotate the secret and see the old command refused.
 */
describe('hooks in the console', () => {
  const platform = new Platform();
  let model: OpenAiTestServer;
  let browser: Browser;
  let page: Page;
  let deviceId: string;
  let failed = false;
  const pageErrors: string[] = [];

  function screenshotOnFailure(context: TestContext, name: string): void {
    context.onTestFailed(async () => {
      failed = true;
      await saveScreenshot(page, join(platform.root, `hooks-browser-${name}.png`));
    });
  }

  const shell = async (script: string) =>
    (await run('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } })).stdout;

  async function pick(selectTestId: string, optionText: string): Promise<void> {
    await page.getByTestId(selectTestId).click();
    await page.locator('.n-base-select-option', { hasText: optionText }).first().click();
  }

  beforeAll(async () => {
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: ['test-model'] });
    model.setResponder(() => ({ kind: 'text', text: 'ticket triaged' }));
    await platform.start();
    const claim = await platform.api.createClaimToken();
    platform.startAgent('hook-browser-box', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    deviceId = (await platform.waitForDevice((d) => d.name === 'hook-browser-box' && d.online, 'box online'))
      .id;
    for (const [path, body] of [
      [
        '/api/v1/providers',
        { id: 'local', name: 'Local', baseUrl: model.url, models: ['test-model'], apiKey: API_KEY },
      ],
      [
        '/api/v1/agents',
        {
          id: 'triage',
          definition: {
            name: 'Triage',
            instructions: 'Triage tickets.',
            model: { provider: 'local', model: 'test-model' },
          },
        },
      ],
      ['/api/v1/assignments', { agentId: 'triage', target: { type: 'device', deviceId } }],
    ] as const) {
      const response = await platform.api.request('POST', path, body);
      expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
    }
    await waitFor('the box runs triage', async () => {
      const agents = await platform.api.request<Array<{ agentId: string; reported?: unknown }>>(
        'GET',
        `/api/v1/devices/${deviceId}/agents`,
      );
      return agents.body.find((agent) => agent.agentId === 'triage')?.reported;
    });
    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop({ keep: failed });
    await model?.close();
  });

  it('creates a hook, shows its secret once with commands that work as shown, and rotates it', async (context) => {
    screenshotOnFailure(context, 'create');
    await signInToConsole(page, platform.fleet);
    await page.getByTestId('nav-hooks').click();
    await page.getByTestId('hooks-empty').waitFor();
    await page.getByTestId('hook-create').click();
    await page.getByTestId('hook-name').fill('Helpdesk');
    await pick('hook-agent', 'Triage');
    await pick('hook-device', deviceId);
    await page.getByTestId('hook-submit').click();

    await page.getByTestId('hook-shown-once').waitFor();
    const secret = (await page.getByTestId('hook-secret').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^abh_/);
    const bearer = (await page.getByTestId('hook-bearer-command').textContent()) ?? '';
    expect(bearer).toContain(secret);
    expect(bearer).toContain(platform.fleet.url);
    expect(JSON.parse(await shell(bearer))).toMatchObject({ status: 'succeeded', output: 'ticket triaged' });
    const signed = (await page.getByTestId('hook-signed-command').textContent()) ?? '';
    expect(JSON.parse(await shell(signed))).toMatchObject({ status: 'succeeded' });
    await page.getByTestId('hook-close').click();

    const hooks = await platform.api.request<{ items: Array<{ id: string }> }>('GET', '/api/v1/hooks');
    const id = hooks.body.items[0]!.id;
    const row = page.getByTestId(`hook-row-${id}`);
    await row.waitFor();
    expect(await row.textContent()).toContain('Helpdesk');
    expect(await page.content()).not.toContain(secret);

    await page.getByTestId(`hook-rotate-${id}`).click();
    await page.locator('.n-popconfirm__action .n-button--primary-type:visible').last().click();
    await page.getByTestId('hook-rotated-dialog').getByTestId('hook-shown-once').waitFor();
    const fresh = (await page.getByTestId('hook-secret').textContent())?.trim() ?? '';
    expect(fresh).toMatch(/^abh_/);
    expect(fresh).not.toBe(secret);
    const refused = JSON.parse(await shell(bearer)) as { code: string };
    expect(refused.code).toBe('HOOK_UNAUTHORIZED');
    await page.getByTestId('hook-rotated-close').click();

    await page.getByTestId(`hook-deliveries-${id}`).click();
    const deliveries = page.getByTestId('hook-deliveries-dialog');
    await deliveries.waitFor();
    // Both calls found the box online and ran at once: no call waited, so none is listed.
    await deliveries.locator('.n-data-table-empty').waitFor();
    expect(await deliveries.getByTestId('hook-deliveries-empty').textContent()).toContain(
      'No call has had to wait',
    );
    expect(await deliveries.locator('.n-data-table-tbody .n-data-table-tr').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
