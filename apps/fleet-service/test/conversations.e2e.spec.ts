import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationDtoSchema,
  ConversationListDtoSchema,
  ConversationMessageListDtoSchema,
  type LiveEvent,
  type RunRecord,
} from '@agentbox/schemas';
import { provisionBox, provisionSimulatedBox, waitFor, type SimulatedBox } from '@agentbox/test-support';
import { drivers, expectError, recordLiveEvents, useFleetApp } from './support/fleet-app.js';

describe.each(drivers)('conversations over HTTP and MQTT ($name)', (driver) => {
  const skip = driver.skip;
  let box: SimulatedBox;
  let deviceId: string;
  let offlineDeviceId: string;
  let runs = 0;
  const live: LiveEvent[] = [];

  const app = useFleetApp(driver, 'conversations', {
    signIn: 'every role',
    env: () => ({ AGENTBOX_INGEST_FLUSH_MS: '20', AGENTBOX_TASK_TIMEOUT_MS: '1500' }),
  });
  const { call, tokens } = app;

  beforeAll(async () => {
    if (skip) return;
    recordLiveEvents(app, live);
    const provider = await call('POST', '/api/v1/providers', {
      token: tokens.admin,
      body: { id: 'local', name: 'Local', baseUrl: 'http://127.0.0.1:9/v1' },
    });
    expect(provider.status).toBe(201);
    const agent = await call('POST', '/api/v1/agents', {
      token: tokens.operator,
      body: {
        id: 'helper',
        definition: { name: 'Helper', instructions: 'Help.', model: { provider: 'local', model: 'm' } },
      },
    });
    expect(agent.status).toBe(201);

    const claim = await call('POST', '/api/v1/claim-tokens', { token: tokens.admin, body: { maxUses: 2 } });
    box = await provisionSimulatedBox(app.base, claim.body.token, {
      hardwareId: 'conversations-e2e-hw-1',
      onCommand: () => ({
        status: 'succeeded',
        output: { runId: `run-conv-${String(++runs).padStart(4, '0')}` },
      }),
    });
    deviceId = box.deviceId;
    offlineDeviceId = (
      await provisionBox(app.base, { claimToken: claim.body.token, hardwareId: 'conversations-e2e-hw-2' })
    ).deviceId;
    await box.goOnline();
    await waitFor(
      'box online',
      async () =>
        (await call('GET', `/api/v1/devices/${deviceId}`, { token: tokens.admin })).body.online === true,
    );
  });

  afterAll(async () => {
    if (skip) return;
    await box?.close();
  });

  const start = (token: string, body: unknown) => call('POST', '/api/v1/conversations', { token, body });
  const say = (token: string, id: string, text: string) =>
    call('POST', `/api/v1/conversations/${id}/messages`, { token, body: { text } });
  const messagesOf = async (id: string) => {
    const response = await call('GET', `/api/v1/conversations/${id}/messages`, { token: tokens.viewer });
    expect(response.status, response.text).toBe(200);
    return ConversationMessageListDtoSchema.strict().parse(response.body).items;
  };
  const finalRun = (id: string, patch: Partial<RunRecord>): RunRecord => ({
    id,
    agentId: 'helper',
    agentVersion: 1,
    trigger: { type: 'message' },
    status: 'succeeded',
    createdAt: Date.now() - 1_000,
    startedAt: Date.now() - 900,
    endedAt: Date.now(),
    steps: 1,
    usage: { inputTokens: 10, outputTokens: 5 },
    ...patch,
  });

  it.skipIf(skip)('validates, checks roles and answers 404 for what does not exist', async () => {
    await expectError(start(tokens.viewer, { agentId: 'helper', deviceId }), 403, 'FORBIDDEN');
    await expectError(start(tokens.operator, { agentId: 'Not A Slug', deviceId }), 400, 'VALIDATION_FAILED');
    await expectError(start(tokens.operator, { agentId: 'helper' }), 400, 'VALIDATION_FAILED');
    await expectError(start(tokens.operator, { agentId: 'ghost', deviceId }), 404, 'AGENT_NOT_FOUND');
    await expectError(
      start(tokens.operator, { agentId: 'helper', deviceId: 'dev-00000000-0000-4000-8000-000000000000' }),
      404,
      'DEVICE_NOT_FOUND',
    );
    await expectError(call('POST', '/api/v1/conversations', { body: {} }), 401, 'UNAUTHENTICATED');

    const created = await start(tokens.operator, { agentId: 'helper', deviceId });
    expect(created.status, created.text).toBe(201);
    const { id } = ConversationDtoSchema.strict().parse(created.body);
    await expectError(say(tokens.viewer, id, 'hello'), 403, 'FORBIDDEN');
    await expectError(say(tokens.operator, id, '   '), 400, 'VALIDATION_FAILED');
    await expectError(say(tokens.operator, id, 'x'.repeat(10_001)), 400, 'VALIDATION_FAILED');
    const ghost = '00000000-0000-4000-8000-000000000000';
    await expectError(say(tokens.operator, ghost, 'hello'), 404, 'CONVERSATION_NOT_FOUND');
    await expectError(
      call('GET', `/api/v1/conversations/${ghost}/messages`, { token: tokens.viewer }),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    await expectError(
      call('GET', `/api/v1/conversations/${ghost}/export`, { token: tokens.viewer }),
      404,
      'CONVERSATION_NOT_FOUND',
    );
    await expectError(
      call('GET', '/api/v1/conversations/not%20an%20id/messages', { token: tokens.viewer }),
      400,
      'VALIDATION_FAILED',
    );
    expect(await messagesOf(id)).toEqual([]);
  });

  it.skipIf(skip)(
    'sends a message as agent.run with the conversation, and the run report becomes the answer',
    async () => {
      const created = await start(tokens.operator, { agentId: 'helper', deviceId, title: 'Disk check' });
      const { id } = ConversationDtoSchema.parse(created.body);

      const sent = await say(tokens.operator, id, 'How full is the disk?');
      expect(sent.status, sent.text).toBe(202);
      const { runId } = sent.body as { id: string; runId: string };
      expect(sent.body).toEqual({ id: expect.any(String), runId: expect.stringMatching(/^run-conv-/) });
      const command = box.commands.at(-1)?.command;
      expect(command).toMatchObject({
        name: 'agent.run',
        args: { agentId: 'helper', input: 'How full is the disk?', conversationId: id },
      });
      // The run view opens at once, and knows the conversation.
      const queued = await call('GET', `/api/v1/runs/${runId}`, { token: tokens.viewer });
      expect(queued.body).toMatchObject({ status: 'queued', input: 'How full is the disk?' });
      expect(await messagesOf(id)).toEqual([
        expect.objectContaining({ role: 'user', text: 'How full is the disk?', runId }),
      ]);

      await box.publish('runs', {
        runs: [finalRun(runId, { conversationId: id, status: 'running', endedAt: undefined })],
      });
      await box.publish('runs', {
        runs: [finalRun(runId, { conversationId: id, output: 'It is **42%** full.' })],
      });
      const answered = await waitFor('the answer', async () => {
        const items = await messagesOf(id);
        return items.length === 2 ? items : undefined;
      });
      expect(answered[1]).toMatchObject({ role: 'assistant', text: 'It is **42%** full.', runId });
      expect(answered[1]!.error).toBeUndefined();
      // A replayed report does not answer twice. A run reported in the same message shows when the
      // replay has been handled.
      await box.publish('runs', {
        runs: [finalRun(runId, { output: 'It is **42%** full.' }), finalRun('run-conv-replay-marker', {})],
      });
      await waitFor(
        'the replay handled',
        async () =>
          (await call('GET', '/api/v1/runs/run-conv-replay-marker', { token: tokens.viewer })).status === 200,
      );
      expect(await messagesOf(id)).toHaveLength(2);
      expect(
        live
          .filter((e) => e.type === 'conversation.message' && e.conversationId === id)
          .map((e) => (e.type === 'conversation.message' ? e.message.role : '')),
      ).toEqual(['user', 'assistant']);

      // A run that fails answers with why.
      const failing = await say(tokens.operator, id, 'And the memory?');
      const failedRun = (failing.body as { runId: string }).runId;
      await box.publish('runs', {
        runs: [finalRun(failedRun, { status: 'failed', error: 'the model is unavailable' })],
      });
      const failed = await waitFor('the failure', async () => {
        const items = await messagesOf(id);
        return items.length === 4 ? items : undefined;
      });
      expect(failed.map((m) => [m.role, m.text, m.error])).toEqual([
        ['user', 'How full is the disk?', undefined],
        ['assistant', 'It is **42%** full.', undefined],
        ['user', 'And the memory?', undefined],
        ['assistant', '', 'the model is unavailable'],
      ]);

      const exported = await call('GET', `/api/v1/conversations/${id}/export`, { token: tokens.viewer });
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(exported.headers.get('content-disposition')).toBe(
        `attachment; filename="conversation-${id}.md"`,
      );
      expect(exported.text).toMatch(/^# Disk check\n\n- Agent: `helper`\n- Box: `[^`]+`\n/);
      expect(exported.text).toContain('**User** · ');
      expect(exported.text).toContain('How full is the disk?\n\n---\n\n**Agent (helper)** · ');
      expect(exported.text).toContain('It is **42%** full.');
      expect(exported.text).toContain('> The run did not answer: the model is unavailable');
    },
  );

  it.skipIf(skip)('answers at once when the run was reported before the message was stored', async () => {
    const { id } = ConversationDtoSchema.parse(
      (await start(tokens.operator, { agentId: 'helper', deviceId })).body,
    );
    // The box's next run id: its report arrives (a fast run) before the command's result is handled.
    const nextRun = `run-conv-${String(runs + 1).padStart(4, '0')}`;
    await box.publish('runs', { runs: [finalRun(nextRun, { output: 'Done already.' })] });
    await waitFor(
      'the early report is stored',
      async () => (await call('GET', `/api/v1/runs/${nextRun}`, { token: tokens.viewer })).status === 200,
    );

    const sent = await say(tokens.operator, id, 'Quick one');
    expect(sent.body).toMatchObject({ runId: nextRun });
    expect((await messagesOf(id)).map((m) => [m.role, m.text])).toEqual([
      ['user', 'Quick one'],
      ['assistant', 'Done already.'],
    ]);
  });

  it.skipIf(skip)(
    'refuses a message to an offline box and stores nothing; lists by agent and box',
    async () => {
      const created = await start(tokens.operator, { agentId: 'helper', deviceId: offlineDeviceId });
      const { id } = ConversationDtoSchema.parse(created.body);
      await expectError(say(tokens.operator, id, 'anyone there?'), 409, 'DEVICE_OFFLINE');
      expect(await messagesOf(id)).toEqual([]);

      const listed = await call('GET', `/api/v1/conversations?agentId=helper&deviceId=${deviceId}`, {
        token: tokens.viewer,
      });
      expect(listed.status).toBe(200);
      const items = ConversationListDtoSchema.strict().parse(listed.body).items;
      expect(items.map((c) => c.deviceId)).toEqual([deviceId, deviceId, deviceId]);
      // The most recently active first; the first message names an untitled one.
      expect(items.map((c) => c.title)).toEqual(['Quick one', 'Disk check', '']);
      expect(items[0]!.lastMessageAt).not.toBeNull();
      const all = await call('GET', '/api/v1/conversations', { token: tokens.viewer });
      expect(all.body.items).toHaveLength(4);
      await expectError(
        call('GET', '/api/v1/conversations?deviceId=bad%20id', { token: tokens.viewer }),
        400,
        'VALIDATION_FAILED',
      );
    },
  );

  it.skipIf(skip)('lists the most recently active first however long ago they were started', async () => {
    const old = ConversationDtoSchema.parse(
      (await start(tokens.operator, { agentId: 'helper', deviceId })).body,
    );
    // More conversations than a list holds, all started after the old one.
    for (let batch = 0; batch < 10; batch++) {
      const started = await Promise.all(
        Array.from({ length: 20 }, () => start(tokens.operator, { agentId: 'helper', deviceId })),
      );
      expect(started.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 201));
    }
    expect((await say(tokens.operator, old.id, 'Still there?')).status).toBe(202);
    const listed = await call('GET', `/api/v1/conversations?deviceId=${deviceId}`, { token: tokens.viewer });
    expect(listed.status).toBe(200);
    const items = ConversationListDtoSchema.strict().parse(listed.body).items;
    expect(items).toHaveLength(200);
    expect(items[0]).toMatchObject({ id: old.id, title: 'Still there?' });
  });
  it.skipIf(skip)(
    'deletes a conversation here and tells its box to forget it, when the box is online',
    async () => {
      const online = ConversationDtoSchema.parse(
        (await start(tokens.operator, { agentId: 'helper', deviceId })).body,
      );
      expect((await say(tokens.operator, online.id, 'Forget me.')).status).toBe(202);
      await expectError(
        call('DELETE', `/api/v1/conversations/${online.id}`, { token: tokens.viewer }),
        403,
        'FORBIDDEN',
      );

      const deleted = await call('DELETE', `/api/v1/conversations/${online.id}`, { token: tokens.operator });
      expect(deleted.status, deleted.text).toBe(200);
      expect(deleted.body).toEqual({ id: online.id, forgottenOnBox: true });
      expect(box.commands.at(-1)?.command).toMatchObject({
        name: 'conversation.forget',
        args: { conversationId: online.id },
      });
      await expectError(
        call('GET', `/api/v1/conversations/${online.id}/messages`, { token: tokens.viewer }),
        404,
        'CONVERSATION_NOT_FOUND',
      );
      const listed = await call('GET', `/api/v1/conversations?deviceId=${deviceId}`, {
        token: tokens.viewer,
      });
      expect(listed.body.items.map((c: { id: string }) => c.id)).not.toContain(online.id);
      await expectError(
        call('DELETE', `/api/v1/conversations/${online.id}`, { token: tokens.operator }),
        404,
        'CONVERSATION_NOT_FOUND',
      );

      // An offline box cannot be told: deleted here all the same, and the answer says so.
      const offline = ConversationDtoSchema.parse(
        (await start(tokens.operator, { agentId: 'helper', deviceId: offlineDeviceId })).body,
      );
      const sent = box.commands.length;
      const away = await call('DELETE', `/api/v1/conversations/${offline.id}`, { token: tokens.operator });
      expect(away.body).toEqual({ id: offline.id, forgottenOnBox: false });
      expect(box.commands).toHaveLength(sent);
    },
  );
});
