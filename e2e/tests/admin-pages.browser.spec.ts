import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { releaseCliRun } from '../support/box.js';
import {
  fillFields,
  launchChromium,
  openConsolePage,
  saveScreenshot,
  signInToConsole,
} from '../support/browser.js';
import { Platform } from '../support/platform.js';

/**
 * The admin pages in a real browser against the built fleet service: users (create, role, disable,
 * reset), the admin's own password from the user menu, claim tokens, rename and removal of a box, and
 * the upload of the trusted root metadata.
 */

const NEW_ADMIN_PASSWORD = 'a brand new admin password';

interface UserView {
  username: string;
  role: string;
  disabledAt: string | null;
}

describe('admin pages in the console: users, own password, claim tokens, box, root metadata', () => {
  const platform = new Platform();
  let browser: Browser;
  let page: Page;
  let deviceId: string;
  let spareTokenId: string;
  let spareToken: string;
  let failed = false;
  const pageErrors: string[] = [];
  const rootFile = () => join(platform.root, 'keys', 'root.json');

  function screenshotOnFailure(context: TestContext, name: string): void {
    context.onTestFailed(async () => {
      failed = true;
      await saveScreenshot(page, join(platform.root, `admin-pages-${name}.png`));
    });
  }

  /** Logs in over the API; the status (and error code) says whether the service let the user in. */
  async function tryLogin(username: string, password: string): Promise<{ status: number; code?: string }> {
    const response = await platform.api.request<{ code?: string }>(
      'POST',
      '/api/v1/auth/login',
      { username, password },
      { auth: false },
    );
    return { status: response.status, ...(response.body.code ? { code: response.body.code } : {}) };
  }

  async function userAlice(): Promise<UserView | undefined> {
    const list = await platform.api.request<{ items: UserView[] }>('GET', '/api/v1/users');
    return list.body.items.find((user) => user.username === 'alice');
  }

  /** Confirms the open pop-up confirmation (the one still visible while another fades out). */
  async function confirmPopover(): Promise<void> {
    await page.locator('.n-popconfirm__action .n-button--primary-type:visible').last().click();
  }

  beforeAll(async () => {
    await platform.start();
    const keys = join(platform.root, 'keys');
    await releaseCliRun(['keygen', '--out', keys, '--name', 'root']);
    await releaseCliRun(['keygen', '--out', keys, '--name', 'release']);
    await releaseCliRun([
      'root',
      'init',
      '--root-key',
      join(keys, 'root.pem'),
      '--release-key',
      join(keys, 'release.pub.json'),
      '--expires',
      '30d',
      '--out',
      rootFile(),
    ]);

    const boxToken = await platform.api.createClaimToken();
    const provisioned = await platform.api.request<{ deviceId: string }>(
      'POST',
      '/api/v1/provision',
      { claimToken: boxToken, hardwareId: 'admin-pages-box-hardware', name: 'admin-box' },
      { auth: false },
    );
    expect(provisioned.status).toBe(200);
    deviceId = provisioned.body.deviceId;
    const spare = await platform.api.request<{ id: string; token: string }>('POST', '/api/v1/claim-tokens', {
      note: 'spare token',
    });
    spareTokenId = spare.body.id;
    spareToken = spare.body.token;

    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await platform.stop({ keep: failed });
  });

  it('creates a user, changes its role and disables it, so that it cannot log in', async (context) => {
    screenshotOnFailure(context, '1-users');
    await signInToConsole(page, platform.fleet);
    await page.getByTestId('nav-users').click();
    await page.waitForURL(/\/users$/);
    await page.getByTestId('user-row-admin').waitFor();

    await page.getByTestId('user-create').click();
    await fillFields(page, { 'user-create-username': 'alice', 'user-create-password': 'alice-initial-pw' });
    await page.getByTestId('user-create-submit').click();
    await page.getByTestId('user-row-alice').waitFor();
    expect(await page.getByTestId('user-state-alice').textContent()).toBe('Enabled');
    expect(await tryLogin('alice', 'alice-initial-pw')).toEqual({ status: 200 });

    await page.getByTestId('user-role-alice').click();
    await page.locator('.n-base-select-option', { hasText: 'Operator' }).click();
    await expect.poll(async () => (await userAlice())?.role).toBe('operator');

    await page.getByTestId('user-disable-alice').click();
    await confirmPopover();
    await expect.poll(() => page.getByTestId('user-state-alice').textContent()).toBe('Disabled');
    expect(await tryLogin('alice', 'alice-initial-pw')).toEqual({ status: 403, code: 'USER_DISABLED' });

    await page.getByTestId('user-enable-alice').click();
    await expect.poll(() => page.getByTestId('user-state-alice').textContent()).toBe('Enabled');
    expect((await userAlice())?.disabledAt).toBeNull();
  });

  it('resets the user’s password, showing the new one once', async (context) => {
    screenshotOnFailure(context, '2-reset');
    await page.getByTestId('user-reset-alice').click();
    await confirmPopover();
    const shown = page.getByTestId('user-reset-password');
    await shown.waitFor();
    const password = (await shown.textContent())?.trim() ?? '';
    expect(password.length).toBeGreaterThanOrEqual(12);
    await page.getByTestId('user-reset-close').click();
    await page.getByTestId('user-reset-dialog').waitFor({ state: 'detached' });

    expect(await tryLogin('alice', 'alice-initial-pw')).toMatchObject({ status: 401 });
    expect(await tryLogin('alice', password)).toEqual({ status: 200 });
  });

  it('changes the admin’s own password from the user menu and stays signed in', async (context) => {
    screenshotOnFailure(context, '3-own-password');
    await page.getByTestId('user-menu').click();
    await page.getByTestId('change-password').click();
    await page.getByTestId('password-dialog').waitFor();
    await fillFields(page, {
      'password-current': 'not the password',
      'password-new': NEW_ADMIN_PASSWORD,
      'password-repeat': NEW_ADMIN_PASSWORD,
    });
    await page.getByTestId('password-submit').click();
    expect(await page.getByTestId('password-error').textContent()).toContain('current password is wrong');

    await fillFields(page, { 'password-current': platform.fleet.adminPassword });
    await page.getByTestId('password-submit').click();
    await page.getByTestId('password-dialog').waitFor({ state: 'detached' });

    expect(await tryLogin('admin', platform.fleet.adminPassword)).toMatchObject({ status: 401 });
    expect(await tryLogin('admin', NEW_ADMIN_PASSWORD)).toEqual({ status: 200 });
    // The change ended the admin's other sessions, this API client's among them.
    await platform.api.login('admin', NEW_ADMIN_PASSWORD);
    // The console carries on with the session the change handed it.
    await page.getByTestId('nav-devices').click();
    await page.getByTestId(`device-row-${deviceId}`).waitFor();
  });

  it('revokes a claim token, which then enrolls no box', async (context) => {
    screenshotOnFailure(context, '4-claim-tokens');
    await page.getByTestId('claim-tokens-link').click();
    await page.waitForURL(/\/claim-tokens$/);
    expect(await page.getByTestId(`claim-token-state-${spareTokenId}`).textContent()).toBe('Active');
    await page.getByTestId(`claim-token-revoke-${spareTokenId}`).click();
    await confirmPopover();
    await expect
      .poll(() => page.getByTestId(`claim-token-state-${spareTokenId}`).textContent())
      .toBe('Revoked');
    const refused = await platform.api.request<{ code: string }>(
      'POST',
      '/api/v1/provision',
      { claimToken: spareToken, hardwareId: 'admin-pages-late-box' },
      { auth: false },
    );
    expect({ status: refused.status, code: refused.body.code }).toEqual({
      status: 401,
      code: 'CLAIM_TOKEN_REVOKED',
    });
  });

  it('renames the box, then removes it after typing its name, and lands on the list', async (context) => {
    screenshotOnFailure(context, '5-box');
    await page.getByTestId('claim-tokens-back').click();
    await page.getByTestId(`device-row-${deviceId}`).click();
    await page.waitForURL(new RegExp(`/devices/${deviceId}`));

    await page.getByTestId('device-rename').click();
    await fillFields(page, { 'device-rename-input': 'renamed-box' });
    await page.getByTestId('device-rename-submit').click();
    await expect.poll(() => page.getByTestId('device-name').textContent()).toContain('renamed-box');
    const renamed = await platform.api.request<{ name: string }>('GET', `/api/v1/devices/${deviceId}`);
    expect(renamed.body.name).toBe('renamed-box');

    await page.getByTestId('device-remove').click();
    expect(await page.getByTestId('device-remove-submit').isDisabled()).toBe(true);
    await fillFields(page, { 'device-remove-input': 'renamed-box' });
    await page.getByTestId('device-remove-submit').click();
    await page.waitForURL((url) => url.pathname === '/devices');
    expect((await platform.api.request('GET', `/api/v1/devices/${deviceId}`)).status).toBe(404);
  });

  it('uploads root.json on the Releases page, which then shows the trusted root', async (context) => {
    screenshotOnFailure(context, '6-root');
    await page.getByTestId('nav-releases').click();
    await page.waitForURL(/\/releases$/);
    expect(await page.getByTestId('ota-root-none').textContent()).toContain('root.json');

    await page.getByTestId('ota-root-upload').click();
    await page.getByTestId('ota-root-input').setInputFiles(rootFile());
    await page.getByTestId('ota-root-submit').click();
    await page.getByTestId('ota-root-dialog').waitFor({ state: 'detached' });
    expect(await page.getByTestId('ota-root-summary').textContent()).toContain('Version 1');
    const trusted = await platform.api.request<{ version: number; installedBy: string }>(
      'GET',
      '/api/v1/ota/root',
    );
    expect(trusted.body).toMatchObject({ version: 1, installedBy: 'admin' });
    expect(pageErrors).toEqual([]);
  });
});
