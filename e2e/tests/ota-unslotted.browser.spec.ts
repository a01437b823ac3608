import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@agentbox/test-support';
import { launchChromium, openConsolePage, signInToConsole } from '../support/browser.js';
import { OtaSetup, bumpMinor, currentAgentVersion } from '../support/ota.js';

interface RolloutBox {
  deviceId: string;
  status: string;
  detail: string | null;
  offeredAt: string | null;
}

/**
 * A box that runs the device agent without the launcher's slots (the one `npm start` runs, or
 * `npm run agent`) cannot take updates: the fleet knows it before a rollout, and a rollout that still
 * targets it shows the refusal.
 */
describe('a box without slots and a rollout', () => {
  const ota = new OtaSetup('agentbox-ota-unslotted-');
  const version = bumpMinor(currentAgentVersion, 1);
  let deviceId = '';
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await ota.buildReleases([version]);
    await ota.platform.start();
    const claimToken = await ota.platform.api.createClaimToken({ ttlHours: 1, maxUses: 1 });
    ota.platform.startAgent('plain', claimToken, { AGENTBOX_WEBHOOK_PORT: '0' });
    const device = await ota.platform.waitForDevice((d) => d.online, 'the plain box online');
    deviceId = device.id;
    ota.deviceIds.push(deviceId);
    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await ota.platform.stop();
    ota.removeWork();
  });

  it('reports no OTA capability, so the console can say so before a rollout', async () => {
    const device = await ota.platform.api.request<{ capabilities: string[] }>(
      'GET',
      `/api/v1/devices/${deviceId}`,
    );
    expect(device.body.capabilities).not.toContain('ota');
  });

  it('warns in the rollout wizard that the box cannot take the release', async () => {
    await ota.uploadRelease(version);
    await signInToConsole(page, ota.platform.fleet);
    await page.goto(`${ota.platform.fleet.url}/releases`);
    await page.getByTestId(`release-rollout-${version}`).click();
    await page.getByTestId('rollout-wizard').waitFor();
    const warning = page.getByTestId('wizard-cannot-update');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/One targeted box cannot take updates \(plain\)/);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('refuses a rollout with the reason, and the rollout view counts the refusal as failed', async () => {
    const releases = await ota.platform.api.request<Array<{ id: string; version: string }>>(
      'GET',
      '/api/v1/releases',
    );
    const release = releases.body.find((item) => item.version === version)!;
    const created = await ota.createCanaryRollout(release.id, {
      abort: { failurePct: 100, minFinished: 1 },
      perBoxTimeoutSec: 120,
      healthDeadlineSec: 60,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await ota.platform.api.request('POST', `/api/v1/rollouts/${id}/start`)).status).toBe(200);
    const box = await waitFor(
      'the box refused',
      async () => {
        const detail = await ota.platform.api.request<{ boxes: RolloutBox[] }>(
          'GET',
          `/api/v1/rollouts/${id}`,
        );
        return detail.body.boxes.find((b) => b.deviceId === deviceId && b.status === 'rejected');
      },
      { timeoutMs: 60_000 },
    );
    expect(box.detail).toContain('not installed with slots');

    await page.goto(`${ota.platform.fleet.url}/rollouts/${id}`);
    await page.getByTestId('rollout-aborted').waitFor();
    expect(await page.getByTestId(`box-status-${deviceId}`).textContent()).toMatch(/rejected|refused/i);
    expect(await page.getByTestId(`box-reason-${deviceId}`).textContent()).toContain(
      'not installed with slots',
    );
    const phase = await page.getByTestId('rollout-phase-0').textContent();
    expect(phase).not.toMatch(/in progress/i);
  }, 120_000);
});
