// Browser smoke test of the agent pages against a running fleet service.
// A simulated box (real provisioning over HTTP, real MQTT) answers the `agent.run` command and reports the run,
// its steps and its token usage the way a device agent does (docs/protocol.md sections 6 and 11).
//
//   AGENTBOX_E2E_URL=http://127.0.0.1:8080 AGENTBOX_E2E_PASSWORD=... node apps/console/e2e/agents-smoke.mjs
//
// Flow: create a provider (write-only key), create an agent with the form, assign it to the box, send a task,
// watch the run live to its final answer, see the box's agents tab and the token chart on the dashboard.
// The box is @agentbox/test-support's SimulatedBox: run `npm run build` first.
// Optional: AGENTBOX_E2E_USER (admin), CHROMIUM_PATH (/usr/bin/chromium), AGENTBOX_E2E_HEADED=1,
// AGENTBOX_E2E_SCREENSHOTS=<dir>.
import { randomBytes, randomUUID } from 'node:crypto';
import { waitFor } from '@agentbox/test-support';
import { base, enrollBox, password, runSmoke, screenshots, step, username } from './smoke-support.mjs';

const shot = screenshots('agents-');
const suffix = randomBytes(3).toString('hex');
const providerId = `e2e-${suffix}`;
const agentId = `e2e-agent-${suffix}`;
const secretKey = `sk-e2e-${randomBytes(12).toString('hex')}`;

async function pick(page, selectTestId, optionText) {
  await page.click(`[data-testid=${selectTestId}]`);
  await page.click(`.n-base-select-option:has-text("${optionText}")`);
}

const wideWindow = { viewport: { width: 1400, height: 1000 } };

await runSmoke('agents smoke test', wideWindow, async ({ page, session }) => {
  step('signing in lands on the token dashboard');
  await page.goto(`${base}/`);
  await page.waitForURL(/\/login/);
  await page.fill('[data-testid=login-username]', username);
  await page.fill('[data-testid=login-password]', password);
  await page.click('[data-testid=login-submit]');
  await page.waitForURL((url) => url.pathname === '/');
  await page.waitForSelector('[data-testid=usage-today]');
  const fresh = await page.$('[data-testid=getting-started]');
  step(fresh ? 'a fleet without usage shows the getting-started steps' : 'the fleet already has usage');
  await shot(page, '1-dashboard');
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('agentbox.session')).token);
  const api = async (path, init = {}) => {
    const response = await fetch(`${base}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });
    if (!response.ok)
      throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  };

  step('a simulated box enrolls and connects over MQTT');
  const claim = await api('/claim-tokens', {
    method: 'POST',
    body: JSON.stringify({ ttlHours: 1, maxUses: 1 }),
  });
  // What the box was told to run, and what it reports back.
  let desiredAgents = [];
  const agentStates = {};
  // session.box: the box reports from onDesired while it comes online, before enrollBox returns.
  const reportState = () => session.box.reportState({ agents: agentStates });
  let task = null;
  const box = await enrollBox(
    session,
    claim.token,
    {
      hardwareId: `e2e-agents-${suffix}`,
      name: `agents box ${suffix}`,
      onDesired: (document) => {
        desiredAgents = document.spec.agents ?? [];
        for (const key of Object.keys(agentStates)) delete agentStates[key];
        for (const agent of desiredAgents)
          agentStates[agent.id] = { version: agent.version, status: 'idle', queued: 0, tokensToday: 0 };
        return reportState();
      },
      onCommand: (command) => {
        if (command.name !== 'agent.run') return undefined;
        const runId = `run-${randomUUID()}`;
        task = { runId, commandId: command.id, ...command.args };
        return { status: 'succeeded', output: { runId } };
      },
    },
    { hostname: 'e2e-agents', metrics: ['cpu.usage_pct'], telemetryIntervalSec: 5 },
  );
  const deviceId = box.deviceId;

  step('an administrator adds a provider; the key is write-only');
  await page.click('[data-testid=nav-providers]');
  await page.click('[data-testid=provider-create]');
  await page.click('[data-testid=provider-preset-deepseek]');
  await page.fill('[data-testid=provider-id]', providerId);
  await page.fill('[data-testid=provider-name]', `DeepSeek ${suffix}`);
  await page.fill('[data-testid=provider-api-key]', secretKey);
  await page.click('[data-testid=provider-save]');
  await page.waitForSelector(`[data-testid=provider-row-${providerId}]`);
  await page.waitForSelector('[data-testid=provider-dialog]', { state: 'detached' });
  const keyTag = await page.textContent(`[data-testid=provider-key-${providerId}]`);
  if (keyTag?.trim() !== 'Key set') throw new Error(`key tag: ${keyTag}`);
  const stored = JSON.stringify(await api(`/providers/${providerId}`));
  if (stored.includes(secretKey) || (await page.content()).includes(secretKey))
    throw new Error('the API key came back');
  await shot(page, '2-providers');

  step('an agent is created with the form; a bad id is explained first');
  await page.click('[data-testid=nav-agents]');
  await page.click('[data-testid=agent-create]');
  await page.fill('[data-testid=agent-name]', `E2E agent ${suffix}`);
  await page.fill('[data-testid=agent-id]', 'Not A Slug');
  await page.fill('[data-testid=agent-instructions]', 'Answer the question briefly.');
  await pick(page, 'agent-provider', providerId);
  await pick(page, 'agent-model', 'deepseek-chat');
  await page.click('[data-testid=agent-add-trigger]');
  await page.fill('[data-testid=agent-trigger-1-cron] >> visible=true', '*/15 * * * *');
  await page.waitForFunction(() =>
    document
      .querySelector('[data-testid=agent-trigger-1-preview]')
      ?.textContent?.includes('Every 15 minutes'),
  );
  await page.click('[data-testid=agent-save]');
  await page.waitForSelector('[data-testid=agent-form-error]');
  await page.waitForSelector('text=1 to 63 characters of a-z');
  await page.fill('[data-testid=agent-id]', agentId);
  await page.click('[data-testid=agent-save]');
  await page.waitForURL(new RegExp(`/agents/${agentId}$`));
  await page.waitForSelector('[data-testid=agent-name]');
  await shot(page, '3-agent');

  step('it is assigned to the box, which receives it in its desired state');
  await page.click('.n-tabs-tab:has-text("Assignments")');
  await pick(page, 'assign-device', deviceId);
  await page.click('[data-testid=assign-submit]');
  await page.waitForSelector(`[data-testid=assignment-device\\:${deviceId}]`);
  await waitFor(
    'the box got the agent in its desired state',
    () => desiredAgents.some((a) => a.id === agentId),
    {
      timeoutMs: 10_000,
      intervalMs: 100,
    },
  );

  step('a task is sent; the run view follows it live to the final answer');
  await page.click('[data-testid=agent-send-task]');
  await page.fill('[data-testid=send-task-input]', 'How is the disk?');
  await page.click('[data-testid=send-task-submit]');
  await page.waitForURL(/\/runs\//);
  if (!task || task.agentId !== agentId || task.input !== 'How is the disk?')
    throw new Error(`task: ${JSON.stringify(task)}`);
  if (!page.url().endsWith(`/runs/${task.runId}`)) throw new Error(`run view of ${page.url()}`);
  // The run's steps are stamped up to 1.8 s after t0; starting t0 in the past keeps every stamp behind
  // the console's clock, since the dashboard counts usage only up to now.
  const t0 = Date.now() - 5_000;
  const run = {
    id: task.runId,
    agentId,
    agentVersion: 1,
    trigger: { type: 'message', detail: task.commandId },
    status: 'running',
    input: task.input,
    createdAt: t0,
    startedAt: t0,
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
  };
  agentStates[agentId] = { ...agentStates[agentId], status: 'running' };
  await reportState();
  await box.publish('runs', { runs: [run] });
  await page.waitForFunction(
    () => document.querySelector('[data-testid=run-status]')?.getAttribute('data-status') === 'running',
    null,
    { timeout: 15_000 },
  );
  const event = (index, type, extra) => ({
    runId: run.id,
    agentId,
    index,
    ts: t0 + index * 100,
    type,
    ...extra,
  });
  await box.publish('run-events', {
    events: [
      event(0, 'model', { name: 'deepseek-chat', inputTokens: 812, outputTokens: 40, durationMs: 900 }),
      event(1, 'tool-call', { name: 'http.fetch', data: { url: 'https://status.example.com/disk' } }),
    ],
  });
  await page.waitForSelector('[data-testid=run-event-1]', { timeout: 15_000 });
  await page.waitForSelector('[data-testid=run-working]');
  await shot(page, '4-run-live');
  await box.publish('run-events', {
    events: [
      event(2, 'tool-result', { name: 'http.fetch', data: { usedPct: 41 } }),
      event(3, 'model', { name: 'deepseek-chat', inputTokens: 901, outputTokens: 25, durationMs: 700 }),
      event(4, 'text', { data: 'The disk is 41% full.' }),
      event(5, 'status', { name: 'succeeded' }),
    ],
  });
  // A status step names the run status in the reader's language, not the raw word.
  await page.waitForSelector('[data-testid=run-event-5]', { timeout: 15_000 });
  const statusStep = (await page.textContent('[data-testid=run-event-5]')) ?? '';
  if (!statusStep.includes('Status: Succeeded')) throw new Error(`status step shows "${statusStep}"`);
  await box.publish('usage', {
    records: [
      {
        id: `u-${randomUUID()}`,
        agentId,
        runId: run.id,
        provider: providerId,
        model: 'deepseek-chat',
        inputTokens: 812,
        outputTokens: 40,
        ts: t0 + 900,
        estimated: false,
        outcome: 'ok',
      },
      {
        id: `u-${randomUUID()}`,
        agentId,
        runId: run.id,
        provider: providerId,
        model: 'deepseek-chat',
        inputTokens: 901,
        outputTokens: 25,
        ts: t0 + 1600,
        estimated: false,
        outcome: 'ok',
      },
    ],
  });
  await box.publish('runs', {
    runs: [
      {
        ...run,
        status: 'succeeded',
        output: 'The disk is 41% full.',
        endedAt: t0 + 1800,
        steps: 2,
        usage: { inputTokens: 1713, outputTokens: 65 },
      },
    ],
  });
  agentStates[agentId] = {
    ...agentStates[agentId],
    status: 'idle',
    lastRunAt: t0 + 1800,
    lastRunStatus: 'succeeded',
    tokensToday: 1778,
  };
  await reportState();
  await page.waitForFunction(
    () => document.querySelector('[data-testid=run-status]')?.getAttribute('data-status') === 'succeeded',
    null,
    { timeout: 15_000 },
  );
  await page.waitForSelector('[data-testid=run-output]:has-text("The disk is 41% full.")');
  const steps = Number(await page.getAttribute('[data-testid=run-timeline]', 'data-events'));
  if (steps !== 6) throw new Error(`${steps} steps on screen`);
  await shot(page, '5-run-done');

  step("the box's agents tab shows the agent idle with its tokens, and its runs");
  await page.goto(`${base}/devices/${deviceId}?tab=agents`);
  await page.waitForSelector(`[data-testid=device-agent-row-${agentId}]`);
  await page.waitForFunction(
    (id) =>
      document.querySelector(`[data-testid=device-agent-status-${id}]`)?.getAttribute('data-status') ===
      'idle',
    agentId,
    { timeout: 15_000 },
  );
  await page.click('.n-tabs-tab:has-text("Runs")');
  await page.waitForSelector(`[data-testid=run-row-${run.id}]`);
  await shot(page, '6-box-agents');

  step('the dashboard counts the tokens and draws them against the budget');
  await page.click('[data-testid=nav-dashboard]');
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=usage-chart]')?.getAttribute('data-total')) >= 1778,
    null,
    {
      timeout: 15_000,
    },
  );
  const budget = Number(await page.getAttribute('[data-testid=usage-chart]', 'data-budget'));
  if (!(budget >= 200_000)) throw new Error(`budget line at ${budget}`);
  await page.waitForSelector(`[data-testid=top-agent-${agentId}]`);
  await page.click('[data-testid=usage-stack-model]');
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=usage-chart]')?.getAttribute('data-series')) >= 1,
  );
  await page.click('[data-testid=usage-range-24h]');
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=usage-chart]')?.getAttribute('data-total')) >= 1778,
  );
  await shot(page, '7-dashboard');

  step('more usage arrives while the dashboard is open: the figures follow live');
  const before = Number(await page.getAttribute('[data-testid=usage-today]', 'data-value'));
  await box.publish('usage', {
    records: [
      {
        id: `u-${randomUUID()}`,
        agentId,
        provider: providerId,
        model: 'deepseek-chat',
        inputTokens: 500,
        outputTokens: 500,
        ts: Date.now(),
        estimated: false,
        outcome: 'ok',
      },
    ],
  });
  await page.waitForFunction(
    (n) =>
      Number(document.querySelector('[data-testid=usage-today]')?.getAttribute('data-value')) >= n + 1000,
    before,
    { timeout: 15_000 },
  );

  step('the agent pages speak Simplified Chinese too');
  await page.click('[data-testid=language-switcher]');
  await page.click('.n-base-select-option:has-text("简体中文")');
  await page.waitForSelector('h2:has-text("Token 消耗")');
});
