import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import {
  startOpenAiTestServer,
  waitFor,
  type OpenAiTestServer,
  type RecordedRequest,
} from '@agentbox/test-support';
import { launchChromium, openConsolePage, saveScreenshot, signInToConsole } from '../support/browser.js';
import { Platform } from '../support/platform.js';

/**
 * The web chat in a real browser: the built console and fleet service, one real device agent keeping
 * the conversation, and the OpenAI-compatible test server answering in Markdown.
 */

const API_KEY = 'sk-chat-browser-0123456789abcdef';
const AGENT_NAME = 'Chatty';

/** The user turns of a model request. */
function userTurns(request: RecordedRequest): string[] {
  return (request.body?.messages ?? [])
    .filter((message) => message.role === 'user')
    .map((message) => (typeof message.content === 'string' ? message.content : ''));
}

describe('the web chat, end to end in the console', () => {
  const platform = new Platform();
  let model: OpenAiTestServer;
  let browser: Browser;
  let page: Page;
  let failed = false;
  const pageErrors: string[] = [];

  function screenshotOnFailure(context: TestContext, name: string): void {
    context.onTestFailed(async () => {
      failed = true;
      await saveScreenshot(page, join(platform.root, `chat-browser-${name}.png`));
    });
  }

  async function send(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await platform.api.request(method, path, body);
    if (![200, 201, 202].includes(response.status)) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  }

  beforeAll(async () => {
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: ['test-model'] });
    // Slow enough to see the agent thinking; the answer tells how many messages the model saw.
    model.setResponder((request) => {
      const turns = userTurns(request);
      return {
        kind: 'text',
        text: `**Hello!** I have seen ${turns.length} message(s). <img src=x onerror="window.hacked=1">`,
        delayMs: 1_500,
      };
    });
    await platform.start();
    const claim = await platform.api.createClaimToken();
    platform.startAgent('box-chat', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    const deviceId = (await platform.waitForDevice((d) => d.name === 'box-chat' && d.online, 'box online'))
      .id;
    await send('POST', '/api/v1/providers', {
      id: 'local',
      name: 'Test model server',
      baseUrl: model.url,
      models: ['test-model'],
      apiKey: API_KEY,
    });
    await send('POST', '/api/v1/agents', {
      id: 'chatty',
      definition: {
        name: AGENT_NAME,
        instructions: 'You chat.',
        model: { provider: 'local', model: 'test-model' },
      },
    });
    await send('POST', '/api/v1/assignments', { agentId: 'chatty', target: { type: 'device', deviceId } });
    await waitFor(
      'chatty installed on the box',
      async () => {
        const agents = (await send('GET', `/api/v1/devices/${deviceId}/agents`)) as {
          agentId: string;
          reported?: unknown;
        }[];
        return agents.some((agent) => agent.agentId === 'chatty' && agent.reported);
      },
      { timeoutMs: 30_000 },
    );
    browser = await launchChromium();
    page = await openConsolePage(browser, pageErrors);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop({ keep: failed });
    await model?.close();
  });

  it('opens the chat from the agent page with the agent and its box chosen', async (context) => {
    screenshotOnFailure(context, '1-open');
    await signInToConsole(page, platform.fleet);
    await page.getByTestId('nav-agents').click();
    await page.getByText(AGENT_NAME).first().click();
    await page.getByTestId('agent-chat').click();
    await page.waitForURL(/\/chat\?.*agentId=chatty/);
    await page.waitForURL(/deviceId=/);
    expect(await page.getByTestId('chat-agent').textContent()).toContain(AGENT_NAME);
    expect(await page.getByTestId('chat-box').textContent()).toContain('box-chat');
    await page.getByTestId('chat-no-conversations').waitFor();
  });

  it('sends with Enter (Shift+Enter is a new line), thinks, then shows the answer as safe Markdown', async (context) => {
    screenshotOnFailure(context, '2-send');
    await page.getByTestId('chat-new').click();
    await page.getByTestId('chat-empty-thread').waitFor();
    const input = page.getByTestId('chat-input');
    await input.click();
    await input.pressSequentially('Hi there');
    await input.press('Shift+Enter');
    await input.pressSequentially('second line');
    await input.press('Enter');

    const user = page.getByTestId('chat-message-user');
    await user.waitFor();
    expect(await user.locator('.plain').textContent()).toBe('Hi there\nsecond line');
    expect(await input.inputValue()).toBe('');
    const thinking = page.getByTestId('chat-thinking');
    await thinking.waitFor();
    expect(await thinking.locator('a').getAttribute('href')).toMatch(/^\/runs\//);

    const answer = page.getByTestId('chat-message-assistant');
    await answer.waitFor({ timeout: 30_000 });
    await thinking.waitFor({ state: 'detached' });
    expect(await answer.locator('strong').textContent()).toBe('Hello!');
    expect(await answer.textContent()).toContain('I have seen 1 message(s).');
    expect(await answer.locator('img').count()).toBe(0);
    expect(await answer.textContent()).toContain('<img src=x');
    expect(await page.evaluate('typeof globalThis.hacked')).toBe('undefined');
    // The conversation took its title from the first message.
    expect(await page.getByTestId('chat-conversation').first().textContent()).toContain('Hi there');
  });

  it('gives the second message the first turn, and exports the transcript as Markdown', async (context) => {
    screenshotOnFailure(context, '3-export');
    await page.getByTestId('chat-input').fill('And again?');
    await page.getByTestId('chat-send').click();
    await page.getByTestId('chat-message-assistant').nth(1).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('chat-message-assistant').nth(1).textContent()).toContain(
      'I have seen 2 message(s).',
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('chat-export').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^conversation-[0-9a-f-]+\.md$/);
    const transcript = readFileSync(await download.path(), 'utf8');
    expect(transcript).toMatch(/^# Hi there second line\n/);
    expect(transcript).toContain('Hi there\nsecond line');
    expect(transcript).toContain('**Agent (chatty)**');
    expect(transcript).toContain('I have seen 2 message(s).');
    expect(pageErrors).toEqual([]);
  });
  it('deletes the conversation here and on the box, after asking', async (context) => {
    screenshotOnFailure(context, '4-delete');
    const title = await page.getByTestId('chat-title').textContent();
    await page.getByTestId('chat-delete').click();
    await page.locator('.n-popconfirm__action .n-button--primary-type:visible').last().click();
    // The real device agent answered conversation.forget: deleted on the box too.
    await page.getByText('Conversation deleted here and on its box.').waitFor({ timeout: 15_000 });
    await page.getByTestId('chat-pick-conversation').waitFor();
    expect(await page.getByTestId('chat-thread').count()).toBe(0);
    expect(await page.getByText(title ?? '', { exact: true }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
