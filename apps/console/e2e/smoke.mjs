// Browser smoke test of the built console against a running fleet service.
// A simulated box (real provisioning over HTTP, real MQTT) shows up live, reports telemetry and goes offline.
//
//   AGENTBOX_E2E_URL=http://127.0.0.1:8080 AGENTBOX_E2E_PASSWORD=... node apps/console/e2e/smoke.mjs
//
// The box is @agentbox/test-support's SimulatedBox: run `npm run build` first.
// Optional: AGENTBOX_E2E_USER (admin), CHROMIUM_PATH (/usr/bin/chromium), AGENTBOX_E2E_HEADED=1,
// AGENTBOX_E2E_SCREENSHOTS=<dir> to keep a screenshot of each page.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { base, enrollBox, password, runSmoke, screenshots, step, username } from './smoke-support.mjs';

const shot = screenshots();

async function attr(page, selector, name, expected, timeout = 15_000) {
  await page.waitForFunction(
    ([s, n, e]) => document.querySelector(s)?.getAttribute(n) === e,
    [selector, name, expected],
    { timeout },
  );
}

// The API key dialog's copy button writes the clipboard; the test reads it back.
const withClipboard = { permissions: ['clipboard-read', 'clipboard-write'] };

await runSmoke('console smoke test', withClipboard, async ({ page, problems, session }) => {
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });

  step('an anonymous visit goes to the login page and back after signing in');
  await page.goto(`${base}/devices`);
  await page.waitForURL(/\/login\?redirect=(%2F|\/)devices/);
  await page.fill('[data-testid=login-username]', username);
  await page.fill('[data-testid=login-password]', 'wrong-password');
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=login-error]');
  step(`wrong password: "${await page.textContent('[data-testid=login-error]')}"`);
  await page.fill('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForURL(/\/devices$/);
  await attr(page, '[data-testid=live-indicator]', 'data-state', 'open');
  const before = Number(await page.textContent('[data-testid=summary-total]'));
  step(`devices page with ${before} box(es), live stream open`);
  if (before === 0) {
    const empty = await page.textContent('[data-testid=devices-empty]');
    if (!empty?.includes('No boxes yet. Click Add box to enroll one.'))
      throw new Error(`empty state: ${empty}`);
  }

  await shot(page, '1-devices-empty');
  step('add a box: claim token and the commands to run');
  await page.click('[data-testid=add-box-button]');
  await page.click('[data-testid=add-box-create]');
  await page.waitForSelector('[data-testid=add-box-command]');
  await shot(page, '2-add-box');
  const command = (await page.textContent('[data-testid=add-box-command]')) ?? '';
  const installed = (await page.textContent('[data-testid=add-box-command-installed]')) ?? '';
  // The console is opened on 127.0.0.1 here: the dialog says how boxes elsewhere reach the service.
  if (!(await page.isVisible('[data-testid=add-box-loopback-hint]'))) {
    throw new Error('the Add box dialog shows a loopback address without saying how to set the public one');
  }
  const token = /AGENTBOX_CLAIM_TOKEN=(\S+)/.exec(command)?.[1];
  if (
    !token ||
    !command.endsWith('AGENTBOX_STATE_DIR=./data/box-2 npm run agent') ||
    !installed.startsWith('sudo sed -i ') ||
    !installed.endsWith(' /etc/agentbox/agent.env && sudo systemctl restart agentbox') ||
    !installed.includes(token)
  ) {
    throw new Error(`unexpected commands: ${command} / ${installed}`);
  }
  step(command);
  await page.click('[data-testid=add-box-close]');

  step('a box enrolls with the token and connects over MQTT');
  const hardwareId = `e2e-${randomBytes(6).toString('hex')}`;
  const box = await enrollBox(
    session,
    token,
    { hardwareId, name: 'e2e box' },
    {
      hostname: 'e2e-host',
      metrics: ['cpu.usage_pct', 'mem.used_pct', 'disk.used_pct', 'load.1m', 'temp.zone0_c', 'temp.max_c'],
      telemetryIntervalSec: 1,
    },
  );
  const deviceId = box.deviceId;
  const telemetry = (cpu) =>
    box.telemetry([
      {
        ts: Date.now(),
        values: {
          'cpu.usage_pct': cpu,
          'mem.used_pct': 40,
          'disk.used_pct': 50,
          'load.1m': 0.5,
          'temp.zone0_c': 45,
          'temp.max_c': 45,
        },
      },
    ]);
  await telemetry(10);

  step('the new box appears online without a reload');
  // On a populated fleet the new box may sit on another page: narrow the list to it.
  await page.fill('[data-testid=devices-search]', hardwareId);
  await page.waitForSelector(`[data-testid=device-row-${deviceId}]`, { timeout: 15_000 });
  await attr(page, `[data-testid=device-status-${deviceId}]`, 'data-online', 'true');

  await shot(page, '3-devices');
  step('its page draws telemetry and appends live samples');
  await page.click(`[data-testid=device-row-${deviceId}]`);
  await page.waitForURL(new RegExp(`/devices/${deviceId}$`));
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=chart-cpu]')?.getAttribute('data-points')) >= 1,
    null,
    { timeout: 15_000 },
  );
  const points = Number(await page.getAttribute('[data-testid=chart-cpu]', 'data-points'));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await telemetry(20);
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid=chart-cpu]')?.getAttribute('data-points')) > n,
    points,
    { timeout: 15_000 },
  );
  step(
    `cpu chart went from ${points} to ${await page.getAttribute('[data-testid=chart-cpu]', 'data-points')} point(s)`,
  );
  await page.waitForSelector('[data-testid=chart-temperature] canvas');
  await shot(page, '4-device');

  step('30 days: the chart reads hourly averages (a point for the hour so far), then back to 15 min');
  const series = page.waitForResponse((response) => response.url().includes('/telemetry/series'));
  await page.click('[data-testid=time-range-30d]');
  const month = await (await series).json();
  if (month.resolution !== '1h') throw new Error(`30 days came as ${month.resolution}, not hourly`);
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=chart-cpu]')?.getAttribute('data-points')) >= 1,
    null,
    { timeout: 15_000 },
  );
  await page.click('[data-testid=time-range-15m]');
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid=chart-cpu]')?.getAttribute('data-points')) >= n,
    points,
    { timeout: 15_000 },
  );

  step('an operator adds a tag; a bad one is refused with a message');
  await page.click('[data-testid=device-tag-add]');
  await page.fill('[data-testid=device-tag-input]', 'bad tag!');
  await page.press('[data-testid=device-tag-input]', 'Enter');
  await page.waitForSelector('[data-testid=device-tag-error]');
  await page.fill('[data-testid=device-tag-input]', 'e2e-lab');
  await page.press('[data-testid=device-tag-input]', 'Enter');
  await page.waitForSelector('[data-testid=device-tag-e2e-lab]');
  const saved = await (
    await fetch(`${base}/api/v1/devices/${deviceId}`, {
      headers: {
        authorization: `Bearer ${await page.evaluate(() => JSON.parse(localStorage.getItem('agentbox.session')).token)}`,
      },
    })
  ).json();
  if (!saved.tags.includes('e2e-lab')) throw new Error(`tag not saved: ${JSON.stringify(saved.tags)}`);

  step('the box drops off: the badge turns offline live, in the chosen language');
  await box.drop();
  session.box = undefined;
  await attr(page, `[data-testid=device-status-${deviceId}]`, 'data-online', 'false', 30_000);
  await page.click('[data-testid=language-switcher]');
  await page.click('.n-base-select-option:has-text("简体中文")');
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid=device-status-${id}]`)?.textContent?.trim() === '离线',
    deviceId,
  );

  await shot(page, '5-device-zh');
  step('an unknown device shows a not-found state');
  await page.goto(`${base}/devices/no-such-box`);
  await page.waitForSelector('[data-testid=device-not-found]');

  step('a rejected token logs out and returns to the login page');
  await page.evaluate(() => {
    const session = JSON.parse(localStorage.getItem('agentbox.session'));
    localStorage.setItem('agentbox.session', JSON.stringify({ ...session, token: 'not-a-valid-token' }));
  });
  await page.goto(`${base}/devices`);
  await page.waitForURL(/\/login\?.*expired=1/);
  if ((await page.evaluate(() => localStorage.getItem('agentbox.session'))) !== null)
    throw new Error('session kept after 401');

  step('an admin signs in again (in English) and creates a viewer API key from the nav');
  await page.evaluate(() => localStorage.setItem('agentbox.locale', 'en'));
  await page.reload();
  await page.fill('[data-testid=login-username]', username);
  await page.fill('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=nav-api-keys]');
  await page.click('[data-testid=nav-api-keys]');
  await page.waitForURL(/\/api-keys$/);
  await page.waitForSelector('[data-testid=api-keys-table]');
  const existingKeys = await page.$$('[data-testid^=api-key-row-]');
  if (existingKeys.length === 0) {
    await page.waitForSelector('[data-testid=api-keys-empty]');
    const emptyCommand = (await page.textContent('[data-testid=api-keys-empty-command]')) ?? '';
    if (
      !emptyCommand.includes('AGENTBOX_API_KEY=') ||
      !emptyCommand.includes(`npm run release -- upload --url ${base}`)
    )
      throw new Error(`API keys empty state: ${emptyCommand}`);
  }
  await shot(page, '6-api-keys');
  await page.click('[data-testid=api-key-create]');
  await page.fill('[data-testid=api-key-name]', 'smoke viewer');
  await page.click('[data-testid=api-key-submit]');
  await page.waitForSelector('[data-testid=api-key-secret]');
  const secret = ((await page.textContent('[data-testid=api-key-secret]')) ?? '').trim();
  if (!/^abk_[a-z2-7]{12}_[a-z2-7]{40}$/.test(secret)) throw new Error(`API key secret: ${secret}`);
  const warning = (await page.textContent('[data-testid=api-key-shown-once]')) ?? '';
  if (!warning.includes('shown only this once')) throw new Error(`no shown-once warning: ${warning}`);
  await page.click('[data-testid=api-key-secret-copy]');
  await page.waitForFunction(
    () => document.querySelector('[data-testid=api-key-secret-copy]')?.textContent?.trim() === 'Copied',
  );
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  if (copied !== secret) throw new Error('the copy button did not copy the key');
  await shot(page, '7-api-key-created');
  await page.click('[data-testid=api-key-close]');
  const keyId = secret.slice(4, 16);
  await page.waitForSelector(`[data-testid=api-key-status-${keyId}]`);
  if ((await page.content()).includes(secret.slice(17))) throw new Error('the secret is still on the page');

  step('the key reads the fleet, is refused a change, then is revoked and refused outright');
  const withKey = (path, init = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${secret}` } });
  if ((await withKey('/api/v1/devices')).status !== 200) throw new Error('viewer key cannot read');
  const change = await withKey('/api/v1/claim-tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (change.status !== 403) throw new Error(`viewer key made a change: ${change.status}`);
  await page.reload();
  await page.waitForSelector(`[data-testid=api-key-last-used-${keyId}]`);
  if ((await page.textContent(`[data-testid=api-key-last-used-${keyId}]`))?.trim() === 'Never')
    throw new Error('last used not shown');
  await page.click(`[data-testid=api-key-revoke-${keyId}]`);
  await page.click('.n-popconfirm__action .n-button--primary-type');
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid=api-key-status-${id}]`)?.textContent?.trim() === 'Revoked',
    keyId,
  );
  const revoked = await withKey('/api/v1/devices');
  const revokedBody = await revoked.json();
  if (revoked.status !== 401 || revokedBody.code !== 'API_KEY_REVOKED')
    throw new Error(`revoked key: ${revoked.status} ${JSON.stringify(revokedBody)}`);
  step(`revoked key refused: "${revokedBody.message}"`);

  step('the audit log lists what happened to the key, filters, pages and exports CSV');
  await page.click('[data-testid=nav-audit]');
  await page.waitForURL(/\/audit$/);
  await page.waitForSelector('[data-testid=audit-table]');
  await page.fill('[data-testid=audit-filter-target-id]', keyId);
  await page.click('[data-testid=audit-search]');
  const actions = async () =>
    page.$$eval('[data-testid^=audit-row-]', (rows) => rows.map((row) => row.getAttribute('data-action')));
  // The key's own requests are entries under the key (its actor), not about it: about it, its creation and revocation.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid^=audit-row-]').length === 2);
  if ((await actions()).join() !== 'api-key.revoked,api-key.created')
    throw new Error(`audit rows: ${await actions()}`);
  await shot(page, '8-audit');
  await page.click('[data-testid=audit-page-size]');
  await page.click('.n-base-select-option:has-text("25 per page")');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid=audit-export]'),
  ]);
  if (!/^agentbox-audit-[0-9TZ-]+\.csv$/.test(download.suggestedFilename()))
    throw new Error(`export file name: ${download.suggestedFilename()}`);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  // The file as saved starts with the UTF-8 byte order mark spreadsheets need for non-ASCII text.
  if (
    lines[0] !==
      '\uFEFFat,actor,action,target_type,target_id,detail,actor_type,actor_id,outcome,status,error_code,source_address' ||
    lines.length !== 3 ||
    !lines[1].includes('api-key.revoked')
  )
    throw new Error(`export: ${csv}`);
  step(`exported ${download.suggestedFilename()} with ${lines.length - 1} entries`);
  await page.fill('[data-testid=audit-filter-actor]', 'nobody-at-all');
  await page.click('[data-testid=audit-search]');
  await page.waitForSelector('[data-testid=audit-empty]');
  if (!(await page.textContent('[data-testid=audit-empty]'))?.includes('No entries match these filters'))
    throw new Error('audit empty state');

  step('both pages speak Simplified Chinese too');
  await page.click('[data-testid=language-switcher]');
  await page.click('.n-base-select-option:has-text("简体中文")');
  await page.waitForFunction(() =>
    document.querySelector('[data-testid=audit-empty]')?.textContent?.includes('没有符合筛选条件的记录'),
  );
  await page.click('[data-testid=nav-api-keys]');
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid=api-key-status-${id}]`)?.textContent?.trim() === '已吊销',
    keyId,
  );
  await shot(page, '9-api-keys-zh');

  step('an operator sees the audit log but neither API keys nor the export');
  const operatorName = `smoke-op-${randomBytes(3).toString('hex')}`;
  const adminToken = await page.evaluate(() => JSON.parse(localStorage.getItem('agentbox.session')).token);
  const user = await fetch(`${base}/api/v1/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: operatorName, password: 'smoke-operator-pass', role: 'operator' }),
  });
  if (user.status !== 201) throw new Error(`operator user: ${user.status} ${await user.text()}`);
  await page.click('[data-testid=user-menu]');
  await page.click('[data-testid=logout]');
  await page.waitForURL(/\/login/);
  await page.fill('[data-testid=login-username]', operatorName);
  await page.fill('[data-testid=login-password]', 'smoke-operator-pass');
  await page.click('[data-testid=login-submit]');
  await page.waitForSelector('[data-testid=nav-audit]');
  if (await page.$('[data-testid=nav-api-keys]')) throw new Error('an operator is offered API keys');
  await page.click('[data-testid=nav-audit]');
  await page.waitForSelector('[data-testid^=audit-row-]');
  if (!(await page.isDisabled('[data-testid=audit-export]'))) throw new Error('an operator may export');
});
