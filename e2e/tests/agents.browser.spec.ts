import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { RunDetailDto, RunEvent, UsageSummary as UsageSummaryDto } from '@agentbox/schemas';
import {
  completionTestTokens,
  promptTestTokens,
  startOpenAiTestServer,
  toolLoopResponder,
  waitFor,
  type OpenAiTestServer,
} from '@agentbox/test-support';
import {
  fillFields,
  launchChromium,
  openConsolePage,
  saveScreenshot,
  signInToConsole,
} from '../support/browser.js';
import { Platform } from '../support/platform.js';

/**
 * A new user's first agent, in a real browser: the built fleet service, one real device-agent process
 * running the agent, and an OpenAI-compatible test server standing in for the paid model API.
 */

const API_KEY = 'sk-browser-e2e-5f1c9a7d3b2e4f60';
const PROVIDER_ID = 'test-llm';
const PROVIDER_NAME = 'Test model server';
const MODEL = 'test-model';
const AGENT_ID = 'note-taker';
const AGENT_NAME = 'Note taker';
const TASK = 'Remember that the greeting is hello.';
const ANSWER = 'I stored the greeting in memory.';
const MEMORY_ARGS = { op: 'set', key: 'greeting', value: 'hello' };

type RunDetail = RunDetailDto;
/** The parts of GET /api/v1/usage/summary the dashboard shows. */
type UsageSummary = Pick<UsageSummaryDto, 'today' | 'week' | 'topAgents'>;
type Tokens = UsageSummary['today'];

const total = (tokens: Tokens) => tokens.inputTokens + tokens.outputTokens;
/** A count as the console prints it in English ("1,234"). */
const countOf = (text: string | null) => Number((text ?? '').replace(/[^\d]/g, ''));

describe('a first agent, end to end in the console', () => {
  const platform = new Platform();
  let model: OpenAiTestServer;
  let browser: Browser;
  let page: Page;
  let deviceId: string;
  let runId: string;
  let failed = false;
  const pageErrors: string[] = [];

  async function get<T>(path: string): Promise<T> {
    const response = await platform.api.request<T>('GET', path);
    if (response.status !== 200)
      throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** On failure: a screenshot in the platform root, which is then kept. */
  function screenshotOnFailure(context: TestContext, name: string): void {
    context.onTestFailed(async () => {
      failed = true;
      await saveScreenshot(page, join(platform.root, `agents-browser-${name}.png`));
    });
  }

  /** Goes to a list page by its nav entry, opens its create form and fills these fields in. */
  async function openCreateForm(nav: string, create: string, fields: Record<string, string>): Promise<void> {
    await page.getByTestId(nav).click();
    await page.getByTestId(create).click();
    await fillFields(page, fields);
  }

  async function pick(selectTestId: string, optionText: string): Promise<void> {
    await page.getByTestId(selectTestId).click();
    await page.locator('.n-base-select-option', { hasText: optionText }).first().click();
  }

  beforeAll(async () => {
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: [MODEL] });
    // First call: the model uses the memory tool; once it sees the tool's result, it answers in text.
    model.setResponder(
      toolLoopResponder({
        toolName: 'memory',
        args: MEMORY_ARGS,
        answer: ANSWER,
      }),
    );
    await platform.start();
    const claim = await platform.api.createClaimToken();
    platform.startAgent('box-first', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    deviceId = (await platform.waitForDevice((d) => d.name === 'box-first' && d.online, 'box online')).id;
    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop({ keep: failed });
    await model?.close();
  });

  it('logs in to a dashboard that says what to do first', async (context) => {
    screenshotOnFailure(context, '1-dashboard');
    await signInToConsole(page, platform.fleet);

    const start = page.getByTestId('getting-started');
    await start.waitFor({ timeout: 15_000 });
    expect(await start.textContent()).toContain('Get your first agent running');
    for (const step of ['provider', 'agent', 'assign']) {
      expect(await page.getByTestId(`getting-started-${step}`).getAttribute('data-done')).toBe('false');
    }
    expect(await page.getByTestId('usage-today').getAttribute('data-value')).toBe('0');
    await page.getByTestId('usage-chart-no-data').waitFor();
  });

  it('adds a provider whose key is never shown again', async (context) => {
    screenshotOnFailure(context, '2-provider');
    await openCreateForm('nav-providers', 'provider-create', {
      'provider-name': PROVIDER_NAME,
      'provider-id': PROVIDER_ID,
      'provider-base-url': model.url,
    });
    await page.getByTestId('provider-models').locator('button').click();
    const modelInput = page.getByTestId('provider-models').locator('input');
    await modelInput.fill(MODEL);
    await modelInput.press('Enter');
    await page.getByTestId('provider-api-key').fill(API_KEY);
    await page.getByTestId('provider-save').click();

    await page.getByTestId(`provider-row-${PROVIDER_ID}`).waitFor();
    await page.getByTestId('provider-dialog').waitFor({ state: 'detached' });
    expect((await page.getByTestId(`provider-key-${PROVIDER_ID}`).textContent())?.trim()).toBe('Key set');
    expect(await page.content()).not.toContain(API_KEY);
    const stored = await get<{ models: string[]; baseUrl: string }>(`/api/v1/providers/${PROVIDER_ID}`);
    expect(stored).toMatchObject({ baseUrl: model.url, models: [MODEL] });
    expect(JSON.stringify(stored)).not.toContain(API_KEY);

    // Editing it later shows that a key is set, never the key itself.
    await page.getByTestId(`provider-edit-${PROVIDER_ID}`).click();
    expect((await page.getByTestId('provider-key-state').textContent())?.trim()).toBe('Key set');
    expect(await page.getByTestId('provider-api-key').count()).toBe(0);
    expect(await page.content()).not.toContain(API_KEY);
    await page.getByTestId('provider-dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('provider-dialog').waitFor({ state: 'detached' });
  });

  it('creates an agent with the form and assigns it to the box', async (context) => {
    screenshotOnFailure(context, '3-agent');
    await openCreateForm('nav-agents', 'agent-create', {
      'agent-name': AGENT_NAME,
      'agent-id': AGENT_ID,
      'agent-instructions': 'You keep notes for the owner of this box. Store what you are told in memory.',
    });
    await pick('agent-provider', `${PROVIDER_NAME} (${PROVIDER_ID})`);
    await pick('agent-model', MODEL);
    await page.getByTestId('agent-tool-memory').locator('.n-checkbox').click();
    // A new agent takes tasks from the console: its first trigger is the message trigger.
    expect(await page.getByTestId('agent-trigger-0-type').textContent()).toContain('Console task');
    await page.getByTestId('agent-save').click();
    await page.waitForURL(new RegExp(`/agents/${AGENT_ID}$`));
    expect(await page.getByTestId('agent-name').textContent()).toBe(AGENT_NAME);

    const saved = await get<{
      definition: { tools: Array<{ tool: string }>; triggers: Array<{ type: string }> };
    }>(`/api/v1/agents/${AGENT_ID}`);
    expect(saved.definition.tools.map((t) => t.tool)).toEqual(['memory']);
    expect(saved.definition.triggers.map((t) => t.type)).toEqual(['message']);

    await page.locator('.n-tabs-tab', { hasText: 'Assignments' }).click();
    await pick('assign-device', deviceId);
    await page.getByTestId('assign-submit').click();
    await page.getByTestId(`assignment-device:${deviceId}`).waitFor();
    // The job delivering it shows its progress until done (a new job answers `running`, and the page
    // reads it again only after half a second), then the result.
    await page.getByTestId('assignment-job-progress').waitFor({ timeout: 5_000 });
    await page.locator('[data-testid="assignment-job"][data-state="done"]').waitFor({ timeout: 15_000 });
    expect((await page.getByTestId('assignment-job-text').textContent())?.trim()).toBe(
      'Delivered to the box',
    );
    expect(await page.getByTestId('assignment-job-progress').count()).toBe(0);
  });

  it("shows the agent idle on the box's agents tab once the box runs it", async (context) => {
    screenshotOnFailure(context, '4-box-agents');
    await page.getByTestId('nav-devices').click();
    await page.getByTestId(`device-row-${deviceId}`).click();
    await page.getByTestId('device-tabs').locator('.n-tabs-tab', { hasText: 'Agents' }).click();
    await page.getByTestId(`device-agent-row-${AGENT_ID}`).waitFor();
    await expect
      .poll(() => page.getByTestId(`device-agent-status-${AGENT_ID}`).getAttribute('data-status'), {
        timeout: 30_000,
      })
      .toBe('idle');
  });

  it('sends a task and follows the run to its answer, with the tool it used and its tokens', async (context) => {
    screenshotOnFailure(context, '5-run');
    await page.getByTestId(`device-agent-row-${AGENT_ID}`).getByRole('link', { name: AGENT_NAME }).click();
    await page.waitForURL(new RegExp(`/agents/${AGENT_ID}$`));
    await page.getByTestId('agent-send-task').click();
    await page.getByTestId('send-task-input').fill(TASK);
    await page.getByTestId('send-task-submit').click();
    await page.waitForURL(/\/runs\//);
    runId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');

    await expect
      .poll(() => page.getByTestId('run-status').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('succeeded');
    await page.getByTestId('run-output').filter({ hasText: ANSWER }).waitFor({ timeout: 10_000 });

    const detail = await get<RunDetail>(`/api/v1/runs/${encodeURIComponent(runId)}`);
    expect(detail).toMatchObject({ agentId: AGENT_ID, deviceId, status: 'succeeded', input: TASK });
    const types = detail.events.map((event) => event.type);
    // Every step the box reported is on screen, in order.
    await expect
      .poll(() => page.getByTestId('run-timeline').getAttribute('data-events'), { timeout: 10_000 })
      .toBe(String(detail.events.length));
    const items = await page.locator('[data-testid^=run-event-]').all();
    const shown = await Promise.all(items.map((item) => item.getAttribute('data-type')));
    expect(shown).toEqual(types);

    const at = (type: RunEvent['type'], from = 0) => {
      const index = types.indexOf(type, from);
      expect(index, `a ${type} step after step ${from} in ${types.join(', ')}`).toBeGreaterThanOrEqual(from);
      return page.getByTestId(`run-event-${detail.events[index]!.index}`);
    };
    const modelCall = types.indexOf('model');
    const toolCall = types.indexOf('tool-call');
    const toolResult = types.indexOf('tool-result');
    const answer = types.lastIndexOf('text');
    expect(modelCall).toBeGreaterThanOrEqual(0);
    expect(toolCall).toBeGreaterThan(modelCall);
    expect(toolResult).toBeGreaterThan(toolCall);
    expect(answer).toBeGreaterThan(toolResult);
    expect(await at('model').textContent()).toContain(MODEL);
    expect(await at('tool-call').textContent()).toContain('memory');
    expect(await at('tool-call').textContent()).toContain('greeting');
    expect(await at('tool-result').textContent()).toContain('stored');
    expect(await at('text', toolResult).textContent()).toContain(ANSWER);

    // Tokens: what the box counted, on screen, and what the model server was asked for twice.
    expect(detail.usage.inputTokens).toBeGreaterThan(0);
    expect(detail.usage.outputTokens).toBeGreaterThan(0);
    expect(countOf(await page.getByTestId('run-input-tokens').textContent())).toBe(detail.usage.inputTokens);
    expect(countOf(await page.getByTestId('run-output-tokens').textContent())).toBe(
      detail.usage.outputTokens,
    );
    const requests = model.completionRequests;
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
    expect(detail.usage.inputTokens).toBe(requests.reduce((sum, r) => sum + promptTestTokens(r.body), 0));
    expect(detail.usage.outputTokens).toBe(
      completionTestTokens('', [{ name: 'memory', arguments: MEMORY_ARGS }]) + completionTestTokens(ANSWER),
    );
  });

  it("shows the run's tokens on the dashboard, in the figures and in the chart", async (context) => {
    screenshotOnFailure(context, '6-dashboard');
    const detail = await get<RunDetail>(`/api/v1/runs/${encodeURIComponent(runId)}`);
    // Usage records travel on their own channel: wait until the fleet has counted all of the run.
    const summary = await waitFor('the fleet counted the run', async () => {
      const current = await get<UsageSummary>('/api/v1/usage/summary');
      return total(current.week) === total(detail.usage) ? current : undefined;
    });
    expect(total(summary.today)).toBeGreaterThan(0);

    await page.getByTestId('nav-dashboard').click();
    await page.waitForURL((url) => url.pathname === '/');
    const value = (testId: string) => page.getByTestId(testId).getAttribute('data-value');
    await expect.poll(() => value('usage-today'), { timeout: 15_000 }).toBe(String(total(summary.today)));
    expect(await value('usage-week')).toBe(String(total(summary.week)));
    expect(await page.getByTestId('usage-today').getAttribute('title')).toBe(
      total(summary.today).toLocaleString('en-US'),
    );

    const chart = page.getByTestId('usage-chart');
    await expect
      .poll(() => chart.getAttribute('data-total'), { timeout: 15_000 })
      .toBe(String(total(summary.week)));
    expect(Number(await chart.getAttribute('data-series'))).toBeGreaterThanOrEqual(1);
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('usage-chart-no-data').count()).toBe(0);
    expect(await page.getByTestId('getting-started').count()).toBe(0);
    expect(summary.topAgents.map((a) => a.agentId)).toEqual([AGENT_ID]);
    expect(await page.getByTestId(`top-agent-${AGENT_ID}`).textContent()).toContain(AGENT_NAME);
  });

  it('speaks Simplified Chinese on the agents page', async (context) => {
    screenshotOnFailure(context, '7-language');
    await page.getByTestId('language-switcher').click();
    await page.locator('.n-base-select-option', { hasText: '简体中文' }).click();
    await page.getByTestId('nav-agents').click();
    await page.locator('h2', { hasText: '智能体' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('h2', { hasText: 'Agents' }).count()).toBe(0);
    await page.getByTestId(`agent-row-${AGENT_ID}`).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
