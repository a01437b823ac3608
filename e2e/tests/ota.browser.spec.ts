import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import { readBootJson, readSlotVersion } from '../support/box.js';
import { launchChromium, openConsolePage, saveScreenshot, signInToConsole } from '../support/browser.js';
import { bumpMinor, currentAgentVersion, OtaSetup } from '../support/ota.js';

/**
 * An over-the-air update driven from the console in a real browser: the built fleet service with a trusted
 * root, two real boxes under the launcher on release X, and release Y built with the release CLI, then
 * uploaded, rolled out and watched in the console.
 */

/** The parts of GET /api/v1/rollouts/:id this test looks at. */
interface RolloutView {
  id: string;
  status: string;
  phases: Array<{ start: number; end: number }>;
  boxes: Array<{ deviceId: string; status: string }>;
}

const BOXES = 2;
const X = currentAgentVersion;
const Y = bumpMinor(X, 1);

describe('over-the-air update in the console: upload, wizard, live rollout view, box history', () => {
  const ota = new OtaSetup('agentbox-e2e-ota-browser-');
  const { platform, boxes, deviceIds } = ota;
  const bundleOf = (version: string) => ota.bundleOf(version);
  const manifestOf = (version: string) => ota.manifestOf(version);
  let browser: Browser;
  let page: Page;
  let rolloutId: string;
  let failed = false;
  const pageErrors: string[] = [];
  const consoleMessages: string[] = [];

  /** On failure: a screenshot in the platform root, which is then kept. */
  function screenshotOnFailure(context: TestContext, name: string): void {
    context.onTestFailed(async () => {
      failed = true;
      await saveScreenshot(page, join(platform.root, `ota-browser-${name}.png`));
      console.error(`browser console:\n${consoleMessages.join('\n')}`);
      console.error(boxes.map((box) => box.log().slice(-3000)).join('\n'));
    });
  }

  beforeAll(async () => {
    await ota.buildReleases([X, Y]);
    await ota.startFleet({
      count: BOXES,
      version: X,
      deviceName: (i) => `ota-browser-box-${i}`,
      hardwareId: (i) => `ota-browser-box-${i}-hardware`,
    });

    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
    page.on('console', (message) => {
      if (message.type() === 'warning' || message.type() === 'error') consoleMessages.push(message.text());
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await ota.stopBoxes();
    await platform.stop({ keep: failed });
    if (!failed && !process.env.AGENTBOX_E2E_KEEP) ota.removeWork();
  }, 60_000);

  it('uploads release Y through the Releases page and shows the upload reach 100% and the verification', async (context) => {
    screenshotOnFailure(context, '1-upload');
    await signInToConsole(page, platform.fleet);

    await page.getByTestId('nav-releases').click();
    await page.waitForURL(/\/releases$/);
    await page.getByTestId('release-upload').click();
    const dialog = page.getByTestId('release-upload-dialog');
    await dialog.waitFor();
    expect(await page.getByTestId('release-upload-submit').isDisabled()).toBe(true);
    await page.getByTestId('release-manifest-input').setInputFiles(manifestOf(Y));
    await page.getByTestId('release-bundle-input').setInputFiles(bundleOf(Y));
    await page.getByTestId('release-upload-submit').click();

    const result = page.getByTestId('release-upload-result');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.textContent()).toContain(Y);
    const progress = page.getByTestId('release-upload-progress');
    expect(await progress.getAttribute('role')).toBe('progressbar');
    expect(await progress.getAttribute('aria-valuenow')).toBe('100');
    expect(await progress.textContent()).toContain('100%');
    await page.getByTestId('release-upload-close').click();
    await dialog.waitFor({ state: 'detached' });

    await page.getByTestId(`release-row-${Y}`).waitFor();
    expect(await page.getByTestId(`release-status-${Y}`).textContent()).toMatch(/ready/i);
    const stored = await platform.api.request<unknown>('GET', '/api/v1/releases');
    expect(JSON.stringify(stored.body)).toContain(Y);
  });

  it('creates a rollout of Y to all boxes with the wizard, in one 100% phase with auto-advance', async (context) => {
    screenshotOnFailure(context, '2-wizard');
    await page.getByTestId(`release-rollout-${Y}`).click();
    await page.waitForURL(/\/rollouts/);
    const wizard = page.getByTestId('rollout-wizard');
    await wizard.waitFor();
    expect(await page.getByTestId('wizard-release').textContent()).toContain(Y);
    // Built on this machine: the one architecture of Y, which each box gets its build of.
    expect(await page.getByTestId('wizard-release-builds').textContent()).toContain(
      `${Y} for its architecture (${process.arch})`,
    );
    await page.getByTestId('wizard-targets').getByText('All boxes', { exact: false }).click();
    await page.getByTestId('wizard-next').click();

    await page.getByTestId('wizard-phase-mode').getByText('Custom').click();
    // The custom phases start as the standard ones; keep only the last, 100% of the boxes.
    for (let i = 0; i < 3; i += 1) {
      await page.getByTestId('wizard-phase-0').getByRole('button', { name: 'Remove' }).click();
    }
    await page.getByTestId('wizard-phase-1').waitFor({ state: 'detached' });
    expect(await page.getByTestId('wizard-phase-0').locator('input').first().inputValue()).toBe('100%');
    expect(await page.getByTestId('wizard-phase-0').locator('input').nth(1).inputValue()).toBe('100');
    expect(await page.getByTestId('wizard-phase-problems').count()).toBe(0);
    await page.getByTestId('wizard-next').click();

    expect(await page.getByTestId('wizard-auto-advance').getAttribute('aria-checked')).toBe('true');
    await page.getByTestId('wizard-create').click();
    await page.waitForURL(/\/rollouts\/[^/]+$/);
    rolloutId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    const created = await platform.api.request<RolloutView>('GET', `/api/v1/rollouts/${rolloutId}`);
    expect(created.status).toBe(200);
    expect(created.body.status).toBe('draft');
    expect(created.body.phases.map((phase) => [phase.start, phase.end])).toEqual([[0, BOXES]]);
    expect(created.body.boxes.map((box) => box.deviceId).sort()).toEqual([...deviceIds].sort());
  });

  it(
    'starts the rollout and watches every box turn healthy and the phase bar fill',
    { timeout: 300_000 },
    async (context) => {
      screenshotOnFailure(context, '3-rollout');
      await page.getByTestId('rollout-start').click();
      await page.locator('.n-popconfirm .n-button--primary-type').click();
      await page.getByTestId('rollout-start').waitFor({ state: 'detached' });

      // The service drives the rollout; the view, fed by the live stream, follows it box by box.
      const done = await waitFor(
        'the rollout completed',
        async () => {
          const view = await platform.api.request<RolloutView>('GET', `/api/v1/rollouts/${rolloutId}`);
          if (view.body.status === 'aborted' || view.body.status === 'paused') {
            throw new Error(`rollout ${view.body.status}: ${JSON.stringify(view.body.boxes)}`);
          }
          return view.body.status === 'completed' ? view.body : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 500 },
      );
      expect(done.boxes.map((box) => box.status)).toEqual(Array<string>(BOXES).fill('healthy'));
      for (const deviceId of deviceIds) {
        await page
          .getByTestId(`rollout-box-${deviceId}`)
          .locator('[data-status="healthy"]')
          .waitFor({ timeout: 15_000 });
      }
      const phase = page.getByTestId('rollout-phase-0');
      await phase.locator(`[data-group="healthy"][data-count="${BOXES}"]`).waitFor();
      expect(await phase.locator('[data-group="healthy"]').getAttribute('style')).toContain('width: 100%');
      expect(await phase.textContent()).toContain(`${BOXES} of ${BOXES} healthy`);

      // The status filter narrows the table to the healthy boxes: all of them.
      await page.getByTestId('rollout-box-filter').click();
      await page
        .locator('.n-base-select-option', { hasText: `Healthy (${BOXES})` })
        .first()
        .click();
      for (const deviceId of deviceIds) await page.getByTestId(`rollout-box-${deviceId}`).waitFor();

      for (let i = 0; i < BOXES; i += 1) {
        const box = boxes[i]!.box;
        expect(readBootJson(box).active).toBe('b');
        expect(readSlotVersion(box, 'b')).toBe(Y);
      }
    },
  );

  it("shows the update history with 'healthy' on a box's Updates tab", async (context) => {
    screenshotOnFailure(context, '4-history');
    const deviceId = deviceIds[0]!;
    await page.getByTestId(`rollout-box-${deviceId}`).getByRole('link').click();
    await page.waitForURL(new RegExp(`/devices/${deviceId}`));
    await page.locator('.n-tabs-tab', { hasText: 'Updates' }).click();
    const history = page.getByTestId('device-updates');
    await history.locator('[data-status="healthy"]').waitFor({ timeout: 15_000 });
    const text = (await history.textContent()) ?? '';
    expect(text).toContain(Y);
    expect(text).toContain('Healthy');
    for (const status of ['downloaded', 'rebooting', 'healthy']) {
      expect(await history.locator(`[data-status="${status}"]`).count()).toBeGreaterThan(0);
    }
    expect(pageErrors).toEqual([]);
  });
});
