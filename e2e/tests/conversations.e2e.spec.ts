import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startOpenAiTestServer,
  waitFor,
  type OpenAiTestServer,
  type RecordedRequest,
} from '@agentbox/test-support';
import type { ConversationMessageDto } from '@agentbox/schemas';
import { Platform } from '../support/platform.js';
import { stacks } from '../support/stacks.js';

/**
 * Conversations end to end: the real fleet service, a real device agent keeping the history in its
 * agents.db, and the OpenAI-compatible test server, whose recorded requests show what history each
 * run sent to the model.
 */

const API_KEY = 'sk-e2e-conversations-0123456789';

/** The user and assistant turns a model request carried, oldest first. */
function turnsOf(request: RecordedRequest): string[] {
  return (request.body?.messages ?? [])
    .filter((message) => message.role === 'user' || message.role === 'assistant')
    .map((message) => `${message.role}: ${typeof message.content === 'string' ? message.content : ''}`);
}

/** Answers each message with "re: <message>": the next request shows whether the answer was kept. */
function echo(request: RecordedRequest) {
  const turns = turnsOf(request);
  return { kind: 'text' as const, text: `re: ${turns.at(-1)?.replace(/^user: /, '') ?? ''}` };
}

describe.each(stacks)('conversations with an agent on a real box, $name', (stack) => {
  let platform: Platform;
  let teardown: () => Promise<void> = () => Promise.resolve();
  let model: OpenAiTestServer;
  let deviceId: string;

  async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await platform.api.request<T>(method, path, body);
    if (![200, 201, 202].includes(response.status)) {
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  }

  async function startConversation(): Promise<string> {
    return (await send<{ id: string }>('POST', '/api/v1/conversations', { agentId: 'chatter', deviceId })).id;
  }

  /** Sends a message and waits for its answer; returns the model request that answered it. */
  async function say(conversationId: string, text: string): Promise<RecordedRequest> {
    const requestsBefore = model.completionRequests.length;
    const { runId } = await send<{ runId: string }>(
      'POST',
      `/api/v1/conversations/${conversationId}/messages`,
      { text },
    );
    const answer = await waitFor(
      `the answer to "${text}"`,
      async () => {
        const { items } = await send<{ items: ConversationMessageDto[] }>(
          'GET',
          `/api/v1/conversations/${conversationId}/messages`,
        );
        return items.find((message) => message.role === 'assistant' && message.runId === runId);
      },
      { timeoutMs: 30_000 },
    );
    expect(answer).toMatchObject({ text: `re: ${text}` });
    const requests = model.completionRequests.slice(requestsBefore);
    expect(requests).toHaveLength(1);
    return requests[0]!;
  }

  beforeAll(async () => {
    model = await startOpenAiTestServer({ apiKey: API_KEY, models: ['test-model'] });
    model.setResponder(echo);
    const setup = await stack.setup();
    teardown = () => setup.teardown();
    platform = new Platform(setup.env);
    await platform.start();
    const claim = await platform.api.createClaimToken({ maxUses: 1 });
    platform.startAgent('box-c', claim, { AGENTBOX_WEBHOOK_PORT: '0' });
    deviceId = (await platform.waitForDevice((d) => d.name === 'box-c' && d.online, 'box-c online')).id;
    await send('POST', '/api/v1/providers', {
      id: 'local',
      name: 'Test model server',
      baseUrl: model.url,
      models: ['test-model'],
      apiKey: API_KEY,
    });
    await send('POST', '/api/v1/agents', {
      id: 'chatter',
      definition: {
        name: 'Chatter',
        instructions: 'You are a test agent that chats.',
        model: { provider: 'local', model: 'test-model' },
        concurrency: { maxParallel: 2 },
      },
    });
    await send('POST', '/api/v1/assignments', { agentId: 'chatter', target: { type: 'device', deviceId } });
    await waitFor(
      'box-c reports chatter installed',
      async () => {
        const agents = await send<{ agentId: string; reported?: unknown }[]>(
          'GET',
          `/api/v1/devices/${deviceId}/agents`,
        );
        return agents.some((agent) => agent.agentId === 'chatter' && agent.reported);
      },
      { timeoutMs: 30_000 },
    );
  });

  afterAll(async () => {
    await platform?.stop();
    await model?.close();
    await teardown();
  });

  it('sends the first turn with the second message; another conversation starts empty', async () => {
    const first = await startConversation();
    expect(turnsOf(await say(first, 'My name is Ada.'))).toEqual(['user: My name is Ada.']);
    expect(turnsOf(await say(first, 'What is my name?'))).toEqual([
      'user: My name is Ada.',
      'assistant: re: My name is Ada.',
      'user: What is my name?',
    ]);

    const second = await startConversation();
    expect(turnsOf(await say(second, 'Who am I?'))).toEqual(['user: Who am I?']);
  });

  it('goes on with its history after the device agent is killed with -9 and restarted', async () => {
    const conversation = await startConversation();
    await say(conversation, 'Remember the number 7.');

    await platform.agent('box-c').kill('SIGKILL');
    await platform.waitForDevice((d) => d.id === deviceId && !d.online, 'box-c offline');
    platform.startAgent('box-c', undefined, { AGENTBOX_WEBHOOK_PORT: '0' });
    await platform.waitForDevice((d) => d.id === deviceId && d.online, 'box-c online again');

    expect(turnsOf(await say(conversation, 'Which number?'))).toEqual([
      'user: Remember the number 7.',
      'assistant: re: Remember the number 7.',
      'user: Which number?',
    ]);
  });
});
